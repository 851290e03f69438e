#include "events/json_mapping.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/json.hpp"

namespace provisiond::events {

using nlohmann::json;

namespace {

json optional_int(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

std::optional<int> optional_int_from(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return j.at(key).get<int>();
}

// A stored JSON object kept as-is (a cluster's connection); {} if unreadable.
json kept_object(const std::string& text) {
  auto parsed = parse_json(text, "connection");
  return parsed && parsed->is_object() ? std::move(*parsed) : json::object();
}

}  // namespace

json to_json(step_kind s) { return to_string(s); }

json to_json(const resource_spec& r) {
  return json{{"cpu", r.cpu}, {"memoryGb", r.memory_gb}, {"storageGb", r.storage_gb}};
}

json to_json(const resource_ref& r) {
  return json{{"id", r.id}, {"kind", r.kind}, {"step", to_json(r.step)}, {"attributes", r.attributes}};
}

json to_json(const cluster_capacity& c) {
  return json{{"cpu", c.cpu}, {"memoryGb", c.memory_gb}, {"storageGb", c.storage_gb}, {"vmSlots", c.vm_slots}};
}

json to_json(const quota_amount& a) {
  return json{{"instances", a.instances}, {"cpu", a.cpu}, {"memoryGb", a.memory_gb}, {"storageGb", a.storage_gb}};
}

json to_json(const quota_violation& v) {
  return json{{"dimension", v.dimension}, {"requested", v.requested}, {"used", v.used}, {"limit", v.limit}};
}

json to_json(const std::vector<quota_violation>& vs) {
  json out = json::array();
  for (auto& v : vs) out.push_back(to_json(v));
  return out;
}

json to_json(const approval_conditions& c) {
  return json{{"minCpu", optional_int(c.min_cpu)},
              {"minMemoryGb", optional_int(c.min_memory_gb)},
              {"minStorageGb", optional_int(c.min_storage_gb)},
              {"types", c.types},
              {"regions", c.regions}};
}

json to_json(const approval_rule& r) {
  return json{{"id", r.id},
              {"name", r.name},
              {"tenantId", r.tenant_id},
              {"priority", r.priority},
              {"enabled", r.enabled},
              {"createdAt", r.created_at},
              {"conditions", to_json(r.conditions)}};
}

json to_json(const webhook_endpoint& w) {
  return json{{"id", w.id},
              {"tenantId", w.tenant_id},
              {"url", w.url},
              {"events", w.events},
              {"enabled", w.enabled},
              {"description", w.description},
              {"createdAt", w.created_at},
              {"updatedAt", w.updated_at},
              {"previousSecretUntil", w.previous_secret_until},
              {"deactivatedAt", w.deactivated_at},
              {"deactivatedReason", w.deactivated_reason}};
}

json to_json(const webhook_attempt& a) {
  return json{{"at", a.at},
              {"timestamp", a.timestamp_s},
              {"statusCode", a.status_code},
              {"latencyMs", a.latency_ms},
              {"error", a.error},
              {"responseBody", a.response_body}};
}

json to_json(const approval_requested& a) {
  return json{{"ruleId", a.rule_id}, {"ruleName", a.rule_name}, {"priority", a.priority}, {"matched", a.matched}};
}

json to_json(const cluster_config& c) {
  return json{{"id", c.id},
              {"name", c.name},
              {"type", c.type},
              {"region", c.region},
              {"default", c.is_default},
              {"capacity", to_json(c.capacity)},
              {"health", c.health},
              {"provisioningEnabled", c.provisioning_enabled},
              {"connection", kept_object(c.connection)},
              {"secretFields", c.secret_fields},
              {"createdAt", c.created_at}};
}

json to_json(const request_submitted& s) {
  return json{{"tenantId", s.tenant_id},
              {"orderId", s.order_id},
              {"type", s.type},
              {"region", s.region},
              {"provider", s.provider},
              {"resources", to_json(s.resources)},
              {"metadata", s.metadata},
              {"idempotencyKey", s.idempotency_key},
              {"requestHash", s.request_hash},
              {"dependsOn", s.depends_on}};
}

template <>
step_kind from_json<step_kind>(const json& j) {
  auto s = parse_step(j.get<std::string>());
  if (!s) throw std::invalid_argument("unknown step " + j.get<std::string>());
  return *s;
}

template <>
resource_spec from_json<resource_spec>(const json& j) {
  return resource_spec{j.at("cpu").get<int>(), j.at("memoryGb").get<int>(), j.at("storageGb").get<int>()};
}

template <>
resource_ref from_json<resource_ref>(const json& j) {
  resource_ref r;
  r.id = j.at("id").get<std::string>();
  r.kind = j.at("kind").get<std::string>();
  r.step = from_json<step_kind>(j.at("step"));
  r.attributes = j.value("attributes", string_map{});
  return r;
}

template <>
cluster_capacity from_json<cluster_capacity>(const json& j) {
  return cluster_capacity{j.at("cpu").get<int>(), j.at("memoryGb").get<int>(), j.at("storageGb").get<int>(),
                          j.at("vmSlots").get<int>()};
}

template <>
quota_amount from_json<quota_amount>(const json& j) {
  return quota_amount{j.at("instances").get<int>(), j.at("cpu").get<int>(), j.at("memoryGb").get<int>(),
                      j.at("storageGb").get<int>()};
}

template <>
quota_violation from_json<quota_violation>(const json& j) {
  return quota_violation{j.at("dimension").get<std::string>(), j.at("requested").get<long long>(),
                         j.at("used").get<long long>(), j.at("limit").get<long long>()};
}

template <>
std::vector<quota_violation> from_json<std::vector<quota_violation>>(const json& j) {
  std::vector<quota_violation> out;
  for (auto& v : j) out.push_back(from_json<quota_violation>(v));
  return out;
}

template <>
approval_conditions from_json<approval_conditions>(const json& j) {
  approval_conditions c;
  c.min_cpu = optional_int_from(j, "minCpu");
  c.min_memory_gb = optional_int_from(j, "minMemoryGb");
  c.min_storage_gb = optional_int_from(j, "minStorageGb");
  c.types = j.value("types", std::vector<std::string>{});
  c.regions = j.value("regions", std::vector<std::string>{});
  return c;
}

template <>
approval_rule from_json<approval_rule>(const json& j) {
  approval_rule r;
  r.id = j.at("id").get<std::string>();
  r.name = j.value("name", "");
  r.tenant_id = j.value("tenantId", "");
  r.priority = j.value("priority", 0);
  r.enabled = j.value("enabled", true);
  r.created_at = j.value("createdAt", time_ms{0});
  r.conditions = from_json<approval_conditions>(j.at("conditions"));
  return r;
}

template <>
webhook_endpoint from_json<webhook_endpoint>(const json& j) {
  webhook_endpoint w;
  w.id = j.at("id").get<std::string>();
  w.tenant_id = j.at("tenantId").get<std::string>();
  w.url = j.at("url").get<std::string>();
  w.events = j.value("events", std::vector<std::string>{});
  w.enabled = j.value("enabled", true);
  w.description = j.value("description", "");
  w.created_at = j.value("createdAt", time_ms{0});
  w.updated_at = j.value("updatedAt", time_ms{0});
  w.previous_secret_until = j.value("previousSecretUntil", time_ms{0});
  w.deactivated_at = j.value("deactivatedAt", time_ms{0});
  w.deactivated_reason = j.value("deactivatedReason", "");
  return w;
}

template <>
webhook_attempt from_json<webhook_attempt>(const json& j) {
  webhook_attempt a;
  a.at = j.value("at", time_ms{0});
  a.timestamp_s = j.value("timestamp", std::int64_t{0});
  a.status_code = j.value("statusCode", 0);
  a.latency_ms = j.value("latencyMs", std::int64_t{0});
  a.error = j.value("error", "");
  a.response_body = j.value("responseBody", "");
  return a;
}

template <>
approval_requested from_json<approval_requested>(const json& j) {
  approval_requested a;
  a.rule_id = j.at("ruleId").get<std::string>();
  a.rule_name = j.value("ruleName", "");
  a.priority = j.value("priority", 0);
  a.matched = j.value("matched", std::vector<std::string>{});
  return a;
}

template <>
cluster_config from_json<cluster_config>(const json& j) {
  cluster_config c;
  c.id = j.at("id").get<std::string>();
  c.name = j.value("name", "");
  c.type = j.at("type").get<std::string>();
  c.region = j.at("region").get<std::string>();
  c.is_default = j.value("default", false);
  c.capacity = from_json<cluster_capacity>(j.at("capacity"));
  c.health = j.value("health", "online");
  c.provisioning_enabled = j.value("provisioningEnabled", true);
  c.connection = dump_json(j.value("connection", json::object()));
  c.secret_fields = j.value("secretFields", std::vector<std::string>{});
  c.created_at = j.value("createdAt", time_ms{0});
  return c;
}

template <>
request_submitted from_json<request_submitted>(const json& j) {
  request_submitted s;
  s.tenant_id = j.at("tenantId").get<std::string>();
  s.order_id = j.at("orderId").get<std::string>();
  s.type = j.at("type").get<std::string>();
  s.region = j.at("region").get<std::string>();
  s.provider = j.at("provider").get<std::string>();
  s.resources = from_json<resource_spec>(j.at("resources"));
  s.metadata = j.value("metadata", string_map{});
  s.idempotency_key = j.value("idempotencyKey", "");
  s.request_hash = j.value("requestHash", "");
  s.depends_on = j.value("dependsOn", std::vector<std::string>{});
  return s;
}

}  // namespace provisiond::events
