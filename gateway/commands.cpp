#include "gateway/commands.hpp"

#include <algorithm>
#include <initializer_list>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/json.hpp"

namespace provisiond::gateway {

using nlohmann::json;
namespace ev = provisiond::events;

namespace {

// An object key may be the empty string; it is named "" (quoted), so a
// field is never blank.
error bad(std::string field, std::string message) {
  if (field.empty()) field = "\"\"";
  return make_error(errc::invalid_argument, std::move(message), std::move(field));
}

result<std::string> required_string(const json& j, const char* field, std::size_t max_len) {
  if (!j.contains(field)) return bad(field, std::string(field) + " is required");
  const auto& v = j.at(field);
  if (!v.is_string()) return bad(field, std::string("expected a string for ") + field);
  auto s = v.get<std::string>();
  if (s.empty() || s.size() > max_len)
    return bad(field, std::string("expected 1-") + std::to_string(max_len) + " characters for " + field);
  return s;
}

result<int> int_field(const json& j, const std::string& path, const char* field, int lo, int hi) {
  auto name = path + "." + field;
  if (!j.contains(field)) return bad(name, name + " is required");
  const auto& v = j.at(field);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    return bad(name, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v.get<long long>());
}

result<ev::resource_spec> parse_resources(const json& j) {
  if (!j.contains("resources")) return bad("resources", "resources is required ({cpu, memoryGb, storageGb})");
  const auto& r = j.at("resources");
  if (!r.is_object()) return bad("resources", "expected an object {cpu, memoryGb, storageGb}");
  for (auto& [k, v] : r.items()) {
    (void)v;
    if (k != "cpu" && k != "memoryGb" && k != "storageGb")
      return bad("resources." + k, "unknown field; expected cpu, memoryGb, storageGb");
  }
  auto cpu = int_field(r, "resources", "cpu", 1, 4096);
  if (!cpu) return cpu.error();
  auto mem = int_field(r, "resources", "memoryGb", 1, 65536);
  if (!mem) return mem.error();
  auto disk = int_field(r, "resources", "storageGb", 0, 1'000'000);
  if (!disk) return disk.error();
  return ev::resource_spec{*cpu, *mem, *disk};
}

// metadata and dependsOn, both optional.
status parse_extras(const json& j, ev::request_submitted& s) {
  if (j.contains("metadata")) {
    const auto& m = j.at("metadata");
    if (!m.is_object()) return bad("metadata", "expected an object of string values");
    if (m.size() > 64) return bad("metadata", "expected at most 64 entries");
    for (auto& [k, v] : m.items()) {
      if (!v.is_string()) return bad("metadata." + k, "expected a string value");
      if (k.empty() || k.size() > 128 || v.get<std::string>().size() > 1024)
        return bad("metadata." + k, "expected a key of 1-128 and a value of at most 1024 characters");
      s.metadata[k] = v.get<std::string>();
    }
  }
  if (j.contains("dependsOn")) {
    const auto& d = j.at("dependsOn");
    if (!d.is_array()) return bad("dependsOn", "expected an array of request ids");
    for (auto& x : d) {
      if (!x.is_string() || !is_valid_id(x.get<std::string>()))
        return bad("dependsOn", "expected an array of request ids");
      s.depends_on.push_back(x.get<std::string>());
    }
  }
  return ok();
}

// A submission from a parsed JSON value; `own_keys` are the carrier's own
// fields (a Kafka command's commandId and command), skipped here.
result<submission> submission_from(const json& j, std::initializer_list<std::string_view> own_keys = {}) {
  if (!j.is_object()) return bad("$", "expected a JSON object");
  static const std::vector<std::string> known = {"id",       "tenantId",  "orderId",  "type",     "region",
                                                 "provider", "resources", "metadata", "dependsOn"};
  for (auto& [k, v] : j.items()) {
    (void)v;
    if (is_one_of(own_keys, k)) continue;
    if (std::find(known.begin(), known.end(), k) == known.end())
      return bad(k, "unknown field " + k + "; expected one of " + join_names(known));
  }
  submission out;
  auto& s = out.spec;
  if (j.contains("id")) {
    if (!j["id"].is_string() || !is_valid_id(j["id"].get<std::string>()))
      return bad("id",
                 "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (or no id: "
                 "one is assigned)");
    out.request_id = j["id"].get<std::string>();
  }
  auto tenant = required_string(j, "tenantId", 64);
  if (!tenant) return tenant.error();
  if (!is_valid_id(*tenant))
    return bad("tenantId", "expected letters, digits, '.', '_' or '-', starting with a letter or digit");
  s.tenant_id = *tenant;
  auto order = required_string(j, "orderId", 128);
  if (!order) return order.error();
  if (!is_valid_order_id(*order))
    return bad("orderId", "expected 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
  s.order_id = *order;
  auto type = required_string(j, "type", 64);
  if (!type) return type.error();
  if (!is_one_of(ev::request_types, *type)) return bad("type", "expected one of " + join_names(ev::request_types));
  s.type = *type;
  auto region = required_string(j, "region", 64);
  if (!region) return region.error();
  if (!is_valid_id(*region))
    return bad("region", "expected letters, digits, '.', '_' or '-', starting with a letter or digit");
  s.region = *region;
  s.provider = "simulation";
  if (j.contains("provider")) {
    auto p = required_string(j, "provider", 32);
    if (!p) return p.error();
    if (!is_one_of(ev::provider_types, *p)) return bad("provider", "expected one of " + join_names(ev::provider_types));
    s.provider = *p;
  }
  auto resources = parse_resources(j);
  if (!resources) return resources.error();
  s.resources = *resources;
  if (auto st = parse_extras(j, s); !st) return st.error();
  return out;
}

result<std::string> string_field(const json& j, const char* field, std::size_t max) {
  if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty() ||
      j[field].get<std::string>().size() > max)
    return bad(field, "expected a string of 1-" + std::to_string(max) + " characters");
  return j[field].get<std::string>();
}

}  // namespace

result<submission> parse_submission(std::string_view body) {
  auto parsed = parse_json(body, "request body");
  if (!parsed) return parsed.error();
  return submission_from(*parsed);
}

result<kafka_command> parse_command(std::string_view value) {
  if (value.size() > max_command_bytes) return make_error(errc::too_large, "value is over the 1 MiB limit", "$");
  auto parsed = parse_json(value, "value");
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  if (!j.is_object()) return bad("$", "expected a JSON object");
  kafka_command c;
  auto id = string_field(j, "commandId", 128);
  if (!id) return id.error();
  if (!std::all_of(id->begin(), id->end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
    return bad("commandId", "expected printable ASCII characters without spaces");
  c.command_id = *id;
  if (!j.contains("command") || !j["command"].is_string() || !is_one_of(command_names, j["command"].get<std::string>()))
    return bad("command", "expected one of " + join_names(command_names));
  c.name = j["command"].get<std::string>();
  if (!j.contains("tenantId") || !j["tenantId"].is_string()) return bad("tenantId", "tenantId is required");
  c.tenant_id = j["tenantId"].get<std::string>();
  if (!is_valid_id(c.tenant_id)) return bad("tenantId", "expected a tenant id");
  if (c.is_provision()) {
    auto sub = submission_from(j, {"commandId", "command"});
    if (!sub) return sub.error();
    c.spec = std::move(sub->spec);
    c.request_id = std::move(sub->request_id);
    return c;
  }
  for (auto& [k, v] : j.items()) {
    (void)v;
    if (k != "commandId" && k != "command" && k != "tenantId" && k != "requestId")
      return bad(k, "unknown field; expected commandId, command, tenantId, requestId");
  }
  auto rid = string_field(j, "requestId", 64);
  if (!rid) return make_error(errc::invalid_argument, "requestId is required for " + c.name, "requestId");
  if (!is_valid_id(*rid)) return bad("requestId", "expected a request id");
  c.request_id = *rid;
  return c;
}

std::string dedupe_key(const kafka_command& c) {
  return "cmd/" + c.command_id;
}

}  // namespace provisiond::gateway
