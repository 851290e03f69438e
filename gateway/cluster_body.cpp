#include "gateway/cluster_body.hpp"

#include <algorithm>
#include <cctype>

#include "common/detail/json_reader.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/names.hpp"

namespace provisiond::gateway {

using provisiond::detail::reader;
using nlohmann::json;

namespace {

bool valid_cluster_id(const std::string& id) {
  return id.size() <= 63 && is_valid_id(id);
}

cluster_definition parse_cluster_object(const json& j, const std::string& path, bool require_capacity,
                                                std::optional<error>& err) {
  cluster_definition d;
  auto& cc = d.cluster;
  reader cr{j, path};
  if (!cr.check_object(
          err, {"id", "name", "type", "region", "default", "capacity", "health", "provisioningEnabled", "connection"}))
    return d;
  cr.string("id", cc.id, err);
  cr.string("name", cc.name, err);
  cr.string("type", cc.type, err);
  cr.string("region", cc.region, err);
  cr.string("health", cc.health, err);
  cr.boolean("default", cc.is_default, err);
  cr.boolean("provisioningEnabled", cc.provisioning_enabled, err);
  if (err) return d;
  if (j.contains("id") && !valid_cluster_id(cc.id))
    err = make_error(errc::invalid_argument,
                     "expected 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit", cr.field("id"));
  else if (cc.type.empty())
    err = make_error(errc::invalid_argument, "required", cr.field("type"));
  else if (!is_one_of(cluster_types, cc.type))
    err = make_error(errc::invalid_argument, "expected one of " + join_names(cluster_types), cr.field("type"));
  else if (cc.region.empty())
    err = make_error(errc::invalid_argument, "required", cr.field("region"));
  else if (!is_valid_id(cc.region))
    err = make_error(errc::invalid_argument,
                     "expected letters, digits, '.', '_' or '-', starting with a letter or digit", cr.field("region"));
  else if (cc.health != "online" && cc.health != "degraded" && cc.health != "offline")
    err = make_error(errc::invalid_argument, "expected online, degraded or offline", cr.field("health"));
  if (err) return d;
  if (j.contains("capacity")) {
    reader kr{j["capacity"], cr.field("capacity")};
    if (!kr.check_object(err, {"cpu", "memoryGb", "storageGb", "vmSlots"})) return d;
    for (const char* k : {"cpu", "memoryGb", "storageGb", "vmSlots"})
      if (!j["capacity"].contains(k)) {
        err = make_error(errc::invalid_argument, "required (a non-negative integer)", kr.field(k));
        return d;
      }
    kr.number("cpu", cc.capacity.cpu, err, 0, 1e9);
    kr.number("memoryGb", cc.capacity.memory_gb, err, 0, 1e9);
    kr.number("storageGb", cc.capacity.storage_gb, err, 0, 2e9);
    kr.number("vmSlots", cc.capacity.vm_slots, err, 0, 1e9);
  } else if (require_capacity) {
    err = make_error(errc::invalid_argument, "required: {cpu, memoryGb, storageGb, vmSlots}", cr.field("capacity"));
  }
  if (err) return d;
  if (j.contains("connection")) {
    const auto& c = j["connection"];
    if (!c.is_object()) {
      err = make_error(errc::invalid_argument, "expected an object of provider settings", cr.field("connection"));
      return d;
    }
    // Kept as sent: bounded in depth, keys and size (common/json.hpp).
    if (auto st = check_kept_value(c, cr.field("connection")); !st) {
      err = st.error();
      return d;
    }
    json open = json::object();
    for (auto& [k, v] : c.items()) {
      if (!is_secret_field(k)) {
        open[k] = v;
        continue;
      }
      if (!v.is_string() || v.get<std::string>().empty()) {
        err = make_error(errc::invalid_argument, "expected a non-empty string (a secret)", cr.field("connection." + k));
        return d;
      }
      d.secrets[k] = v.get<std::string>();
      cc.secret_fields.push_back(k);
    }
    cc.connection = dump_json(open);
  }
  if (cc.name.empty()) cc.name = cc.id;
  return d;
}

}  // namespace

bool is_secret_field(const std::string& name) {
  std::string lower;
  for (char ch : name)
    if (ch != '_' && ch != '-') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* word : {"password", "secret", "token", "privatekey", "apikey"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

result<cluster_definition> parse_cluster(const std::string& json_text, const std::string& path, bool require_capacity) {
  auto parsed = parse_json(json_text, "body");
  if (!parsed) {
    auto e = parsed.error();
    if (!path.empty()) e.field = e.field == "$" ? path : path + "." + e.field;
    return e;
  }
  return parse_cluster_value(*parsed, path, require_capacity);
}

result<cluster_definition> parse_cluster_value(const json& j, const std::string& path, bool require_capacity) {
  std::optional<error> err;
  auto d = parse_cluster_object(j, path, require_capacity, err);
  if (err) return *err;
  return d;
}

}  // namespace provisiond::gateway
