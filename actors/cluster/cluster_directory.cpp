#include "actors/cluster/cluster_directory.hpp"
#include "common/json.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"

namespace provisiond::actors {

namespace ev = provisiond::events;
using nlohmann::json;

cluster_directory::cluster_directory(std::shared_ptr<ev::journal> journal, std::shared_ptr<clock> time,
                                     std::shared_ptr<ev::secret_store> secrets)
    : clock_(std::move(time)), secrets_(std::move(secrets)), stream_(std::move(journal), ev::clusters_stream) {}

void cluster_directory::share(std::function<std::optional<std::uint64_t>()> token) {
  std::lock_guard lock{mutex_};
  stream_.share(std::move(token));
}

status cluster_directory::refresh_locked() {
  auto evs = stream_.unread();
  if (!evs) return evs.error();
  for (auto& e : *evs) {
    if (auto* s = std::get_if<ev::cluster_saved>(&e)) clusters_[s->cluster.id] = s->cluster;
    if (auto* d = std::get_if<ev::cluster_deleted>(&e)) clusters_.erase(d->cluster_id);
  }
  next_id_ = std::max(next_id_, stream_.version() + 1);
  return ok();
}

status cluster_directory::refresh() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

status cluster_directory::load(const std::vector<cluster_config>& seed,
                               const std::map<std::string, std::map<std::string, std::string>>& seed_secrets) {
  if (auto st = refresh(); !st) return st;
  for (const auto& c : seed) {
    if (get(c.id)) continue;
    cluster_definition d{c, {}};
    if (auto it = seed_secrets.find(c.id); it != seed_secrets.end()) d.secrets = it->second;
    if (stream_.shared()) {
      // Every instance has the same configuration file: each holds its
      // clusters itself, and only API writes travel on the changelog.
      std::lock_guard lock{mutex_};
      d.cluster.created_at = clock_->now();
      if (auto st = store_secrets(c.id, d.secrets); !st) return st;
      clusters_[c.id] = d.cluster;
      continue;
    }
    if (auto r = create(std::move(d)); !r) return r.error();
  }
  return ok();
}

status cluster_directory::store_secrets(const std::string& id, const std::map<std::string, std::string>& secrets) {
  // Secrets first: an event never names a secret that is not stored.
  for (auto& [field, value] : secrets)
    if (auto st = secrets_->put(ev::cluster_secret_name(id, field), value); !st) return st;
  return ok();
}

result<cluster_config> cluster_directory::create(cluster_definition d) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  auto& c = d.cluster;
  if (c.id.empty()) {
    do c.id = "cluster-" + std::to_string(next_id_++);
    while (clusters_.count(c.id));
    if (c.name.empty()) c.name = c.id;
  }
  if (clusters_.count(c.id)) return make_error(errc::conflict, "cluster " + c.id + " already exists", "id");
  c.created_at = clock_->now();
  if (auto st = store_secrets(c.id, d.secrets); !st) return st.error();
  if (auto st = stream_.append(ev::cluster_saved{c}, clock_->now()); !st) return st.error();
  clusters_[c.id] = c;
  return c;
}

namespace {

// Connection fields that decide where a cluster's secrets are sent or whom
// the client trusts: any whose name holds url, server, host, endpoint,
// address, port, cafile or insecure (and the cluster's type).
bool is_destination_field(const std::string& name) {
  std::string lower;
  for (char ch : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* word : {"url", "server", "host", "endpoint", "address", "port", "cafile", "insecure"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

// What changed of the destination between two versions of a cluster, or "".
std::string where_secrets_go_changed(const cluster_config& before, const cluster_config& after) {
  if (before.type != after.type) return "type";
  auto a = parse_json(before.connection, "connection");
  auto b = parse_json(after.connection, "connection");
  json old_conn = a && a->is_object() ? *a : json::object();
  json new_conn = b && b->is_object() ? *b : json::object();
  // A destination set to a new value (or added) redirects the secrets; one
  // left out sends them nowhere (the provider's check refuses it).
  for (auto& [k, v] : new_conn.items())
    if (is_destination_field(k) && (!old_conn.contains(k) || old_conn[k] != v)) return "connection." + k;
  return {};
}

}  // namespace

result<cluster_config> cluster_directory::update(const std::string& id, cluster_definition d) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  auto it = clusters_.find(id);
  if (it == clusters_.end()) return make_error(errc::not_found, "no cluster " + id);
  auto& c = d.cluster;
  if (!c.id.empty() && c.id != id) return make_error(errc::invalid_argument, "does not match the URL (" + id + ")", "id");
  c.id = id;
  if (c.name.empty()) c.name = id;
  c.created_at = it->second.created_at;
  // Omitted secrets are kept: a client can change the region without resending the password,
  // but not where the password goes: a new address or trust setting needs the secrets again.
  if (auto moved = where_secrets_go_changed(it->second, c); !moved.empty())
    for (auto& f : it->second.secret_fields)
      if (!d.secrets.count(f))
        return make_error(errc::invalid_argument,
                          "required again: " + moved + " changed, and a stored secret is only sent where it was set for",
                          "connection." + f);
  for (auto& f : it->second.secret_fields)
    if (std::find(c.secret_fields.begin(), c.secret_fields.end(), f) == c.secret_fields.end())
      c.secret_fields.push_back(f);
  std::sort(c.secret_fields.begin(), c.secret_fields.end());
  if (auto st = store_secrets(id, d.secrets); !st) return st.error();
  if (auto st = stream_.append(ev::cluster_saved{c}, clock_->now()); !st) return st.error();
  it->second = c;
  return c;
}

status cluster_directory::remove(const std::string& id) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st;
  auto it = clusters_.find(id);
  if (it == clusters_.end()) return make_error(errc::not_found, "no cluster " + id);
  if (auto st = stream_.append(ev::cluster_deleted{id}, clock_->now()); !st) return st;
  for (auto& f : it->second.secret_fields) (void)secrets_->erase(ev::cluster_secret_name(id, f));
  clusters_.erase(it);
  return ok();
}

std::vector<cluster_config> cluster_directory::list() const {
  std::lock_guard lock{mutex_};
  std::vector<cluster_config> out;
  for (auto& [id, c] : clusters_) out.push_back(c);
  return out;
}

std::optional<cluster_config> cluster_directory::get(const std::string& id) const {
  std::lock_guard lock{mutex_};
  auto it = clusters_.find(id);
  if (it == clusters_.end()) return std::nullopt;
  return it->second;
}

result<std::string> cluster_directory::connection(const std::string& id) const {
  auto c = get(id);
  if (!c) return make_error(errc::not_found, "no cluster " + id);
  auto parsed = parse_json(c->connection, "stored connection");
  json j = parsed && parsed->is_object() ? std::move(*parsed) : json::object();
  for (auto& f : c->secret_fields) {
    auto v = secrets_->get(ev::cluster_secret_name(id, f));
    if (!v) return v.error();
    if (*v) j[f] = **v;
  }
  return dump_json(j);
}

}  // namespace provisiond::actors
