#include "webhooks/registry.hpp"

#include <algorithm>

#include <openssl/rand.h>

#include "events/codec.hpp"
#include "events/kafka/kafka.hpp"
#include "webhooks/signature.hpp"

namespace provisiond::webhooks {

namespace ev = provisiond::events;

namespace {

result<std::string> new_id() {
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) return make_error(errc::internal, "no randomness for a webhook id");
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "wh_";
  for (auto b : raw) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

template <std::size_t... I>
std::vector<std::string> request_event_names(std::index_sequence<I...>) {
  std::vector<std::string> out;
  (
      [&] {
        using T = std::variant_alternative_t<I, ev::event>;
        // Admin streams' events are not a tenant's.
        if constexpr (!std::is_same_v<T, ev::quota_set> && !std::is_same_v<T, ev::approval_rule_saved> &&
                      !std::is_same_v<T, ev::approval_rule_deleted> && !std::is_same_v<T, ev::cluster_saved> &&
                      !std::is_same_v<T, ev::cluster_deleted> && !std::is_same_v<T, ev::webhook_saved> &&
                      !std::is_same_v<T, ev::webhook_deleted> && !std::is_same_v<T, ev::webhook_deactivated> &&
                      !std::is_same_v<T, ev::webhook_delivery_settled> && !std::is_same_v<T, ev::api_key_issued> &&
                      !std::is_same_v<T, ev::api_key_revoked>)
          out.emplace_back(ev::type_name(ev::event{T{}}));
      }(),
      ...);
  return out;
}

}  // namespace

const std::vector<std::string>& subscribable_types() {
  static const auto names = [] {
    std::vector<std::string> out(ev::kafka::lifecycle_topics.begin(), ev::kafka::lifecycle_topics.end());
    for (auto& n : request_event_names(std::make_index_sequence<std::variant_size_v<ev::event>>{})) out.push_back(n);
    return out;
  }();
  return names;
}

bool subscribes(const ev::webhook_endpoint& ep, const std::string& type) {
  bool lifecycle = std::find(ev::kafka::lifecycle_topics.begin(), ev::kafka::lifecycle_topics.end(), type) !=
                   ev::kafka::lifecycle_topics.end();
  return std::any_of(ep.events.begin(), ep.events.end(), [&](auto& t) { return t == type || (t == "*" && lifecycle); });
}

registry::registry(std::shared_ptr<ev::journal> journal, std::shared_ptr<ev::secret_store> secrets,
                   std::shared_ptr<clock> time)
    : secrets_(std::move(secrets)), clock_(std::move(time)), stream_(std::move(journal), ev::webhooks_stream) {}

void registry::fold(const ev::event& e) {
  if (auto* s = std::get_if<ev::webhook_saved>(&e)) {
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == s->endpoint.id; });
    if (it == endpoints_.end()) endpoints_.push_back(s->endpoint);
    else *it = s->endpoint;
  }
  if (auto* d = std::get_if<ev::webhook_deleted>(&e))
    std::erase_if(endpoints_, [&](auto& x) { return x.id == d->webhook_id; });
  if (auto* d = std::get_if<ev::webhook_deactivated>(&e)) {
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == d->webhook_id; });
    if (it != endpoints_.end()) {
      it->enabled = false;
      it->deactivated_at = d->at;
      it->deactivated_reason = d->reason;
    }
  }
}

status registry::refresh_locked() {
  auto evs = stream_.unread();
  if (!evs) return evs.error();
  for (auto& e : *evs) fold(e);
  return ok();
}

status registry::load() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

status registry::refresh() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

void registry::share(std::function<std::optional<std::uint64_t>()> token) {
  std::lock_guard lock{mutex_};
  stream_.share(std::move(token));
}

status registry::append(const ev::event& e) {
  if (auto st = stream_.append(e, clock_->now()); !st) return st;
  fold(e);
  return ok();
}

result<endpoint_with_secret> registry::create(ev::webhook_endpoint draft) {
  auto id = new_id();
  if (!id) return id.error();
  auto secret = generate_secret();
  if (!secret) return secret.error();
  // The secret first, outside the lock (scaled out, a put waits for Kafka):
  // an endpoint the journal names always has one.
  if (auto st = secrets_->put(ev::webhook_secret_name(*id), *secret); !st) return st.error();
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  draft.id = *id;
  draft.created_at = draft.updated_at = clock_->now();
  draft.previous_secret_until = 0;
  draft.deactivated_at = 0;
  draft.deactivated_reason.clear();
  if (auto st = append(ev::webhook_saved{draft}); !st) return st.error();
  return endpoint_with_secret{draft, *secret};
}

result<ev::webhook_endpoint> registry::update(const ev::webhook_endpoint& changes) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == changes.id; });
  if (it == endpoints_.end()) return make_error(errc::not_found, "no webhook " + changes.id, "id");
  auto next = *it;
  next.url = changes.url;
  next.events = changes.events;
  next.description = changes.description;
  next.enabled = changes.enabled;
  if (next.enabled) {
    next.deactivated_at = 0;
    next.deactivated_reason.clear();
  }
  next.updated_at = clock_->now();
  if (auto st = append(ev::webhook_saved{next}); !st) return st.error();
  return next;
}

status registry::remove(const std::string& id) {
  {
    std::lock_guard lock{mutex_};
    if (auto st = refresh_locked(); !st) return st;
    if (std::none_of(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == id; }))
      return make_error(errc::not_found, "no webhook " + id, "id");
    if (auto st = append(ev::webhook_deleted{id}); !st) return st;
  }
  (void)secrets_->erase(ev::webhook_secret_name(id));
  (void)secrets_->erase(ev::webhook_secret_name(id, true));
  return ok();
}

result<endpoint_with_secret> registry::rotate(const std::string& id, time_ms overlap_ms) {
  auto fresh = generate_secret();
  if (!fresh) return fresh.error();
  // One rotation at a time; the secret store is written outside the main
  // lock (scaled out, a put waits for Kafka), so readers are never held up.
  std::lock_guard rotating{rotate_mutex_};
  if (!get(id)) return make_error(errc::not_found, "no webhook " + id, "id");
  auto current = secrets_->get(ev::webhook_secret_name(id));
  if (!current) return current.error();
  // The current secret becomes the previous one, the overlap starts, then
  // the new one signs: no delivery is ever signed without the old secret
  // before the tenant holds the new one.
  if (*current)
    if (auto st = secrets_->put(ev::webhook_secret_name(id, true), **current); !st) return st.error();
  ev::webhook_endpoint next;
  {
    std::lock_guard lock{mutex_};
    if (auto st = refresh_locked(); !st) return st.error();
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == id; });
    if (it == endpoints_.end()) return make_error(errc::not_found, "no webhook " + id, "id");
    next = *it;
    next.previous_secret_until = *current ? clock_->now() + overlap_ms : 0;
    next.updated_at = clock_->now();
    if (auto st = append(ev::webhook_saved{next}); !st) return st.error();
  }
  if (auto st = secrets_->put(ev::webhook_secret_name(id), *fresh); !st) return st.error();
  return endpoint_with_secret{next, *fresh};
}

status registry::deactivate(const std::string& id, const std::string& reason, int consecutive_failures) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st;
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == id; });
  if (it == endpoints_.end() || !it->enabled) return ok();
  return append(ev::webhook_deactivated{id, reason, consecutive_failures, clock_->now()});
}

std::optional<ev::webhook_endpoint> registry::get(const std::string& id) const {
  std::lock_guard lock{mutex_};
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == id; });
  if (it == endpoints_.end()) return std::nullopt;
  return *it;
}

std::vector<ev::webhook_endpoint> registry::list(const std::string& tenant) const {
  std::lock_guard lock{mutex_};
  std::vector<ev::webhook_endpoint> out;
  for (auto& e : endpoints_)
    if (tenant.empty() || e.tenant_id == tenant) out.push_back(e);
  return out;
}

result<std::vector<std::string>> registry::signing_secrets(const std::string& id, time_ms now) const {
  time_ms previous_until = 0;
  {
    std::lock_guard lock{mutex_};
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](auto& x) { return x.id == id; });
    if (it == endpoints_.end()) return make_error(errc::not_found, "no webhook " + id, "id");
    previous_until = it->previous_secret_until;
  }
  std::vector<std::string> out;
  auto current = secrets_->get(ev::webhook_secret_name(id));
  if (!current) return current.error();
  if (!*current) return make_error(errc::not_found, "webhook " + id + " has no secret here (yet)", "secret");
  out.push_back(**current);
  if (now < previous_until) {
    auto previous = secrets_->get(ev::webhook_secret_name(id, true));
    if (!previous) return previous.error();
    if (*previous) out.push_back(**previous);
  }
  return out;
}

}  // namespace provisiond::webhooks
