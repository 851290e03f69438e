#include "events/codec.hpp"
#include "common/json.hpp"

#include <nlohmann/json.hpp>

namespace provisiond::events {

using nlohmann::json;

const char* to_string(step_kind s) noexcept {
  switch (s) {
    case step_kind::allocate: return "allocate";
    case step_kind::configure: return "configure";
    case step_kind::activate: return "activate";
    case step_kind::verify: return "verify";
  }
  return "allocate";
}

std::optional<step_kind> parse_step(const std::string& s) noexcept {
  for (int i = 0; i < step_count; ++i)
    if (s == to_string(static_cast<step_kind>(i))) return static_cast<step_kind>(i);
  return std::nullopt;
}

std::string stream_for_request(const std::string& request_id) { return "request-" + request_id; }

std::string request_of_stream(const std::string& stream) {
  static constexpr std::string_view prefix = "request-";
  if (stream.compare(0, prefix.size(), prefix) != 0) return {};
  return stream.substr(prefix.size());
}

namespace {

// Per type: wire name, current version, encode, decode. The names are part of
// the public contract (Kafka, audit exports) and are never reused.
template <class T> struct traits;

#define PROVISIOND_EVENT(T, NAME, VERSION)          \
  template <> struct traits<T> {                    \
    static constexpr const char* name = NAME;       \
    static constexpr std::uint32_t version = VERSION; \
  };
PROVISIOND_EVENT(request_submitted, "request_submitted", 2)  // v2 added dependsOn
PROVISIOND_EVENT(cluster_placed, "cluster_placed", 2)  // v2 added capacity
PROVISIOND_EVENT(step_started, "step_started", 1)
PROVISIOND_EVENT(resource_allocated, "resource_allocated", 1)
PROVISIOND_EVENT(step_completed, "step_completed", 1)
PROVISIOND_EVENT(step_failed, "step_failed", 1)
PROVISIOND_EVENT(request_completed, "request_completed", 1)
PROVISIOND_EVENT(request_failed, "request_failed", 1)
PROVISIOND_EVENT(rollback_started, "rollback_started", 1)
PROVISIOND_EVENT(step_compensated, "step_compensated", 1)
PROVISIOND_EVENT(compensation_failed, "compensation_failed", 1)
PROVISIOND_EVENT(rolled_back, "rolled_back", 1)
PROVISIOND_EVENT(quota_reserved, "quota_reserved", 1)
PROVISIOND_EVENT(quota_released, "quota_released", 1)
PROVISIOND_EVENT(quota_exceeded, "quota_exceeded", 1)
PROVISIOND_EVENT(approval_requested, "approval_requested", 1)
PROVISIOND_EVENT(request_approved, "request_approved", 1)
PROVISIOND_EVENT(request_rejected, "request_rejected", 1)
PROVISIOND_EVENT(request_admitted, "request_admitted", 1)
PROVISIOND_EVENT(quota_set, "quota_set", 1)
PROVISIOND_EVENT(approval_rule_saved, "approval_rule_saved", 1)
PROVISIOND_EVENT(approval_rule_deleted, "approval_rule_deleted", 1)
PROVISIOND_EVENT(action_requested, "action_requested", 1)
PROVISIOND_EVENT(service_suspended, "service_suspended", 1)
PROVISIOND_EVENT(service_reactivated, "service_reactivated", 1)
PROVISIOND_EVENT(action_failed, "action_failed", 1)
PROVISIOND_EVENT(deprovisioned, "deprovisioned", 1)
PROVISIOND_EVENT(retry_requested, "retry_requested", 1)
PROVISIOND_EVENT(capacity_released, "capacity_released", 1)
PROVISIOND_EVENT(manual_input_requested, "manual_input_requested", 1)
PROVISIOND_EVENT(manual_input_provided, "manual_input_provided", 1)
PROVISIOND_EVENT(late_result_received, "late_result_received", 1)
PROVISIOND_EVENT(cluster_saved, "cluster_saved", 1)
PROVISIOND_EVENT(cluster_deleted, "cluster_deleted", 1)
#undef PROVISIOND_EVENT

json step_json(step_kind s) { return to_string(s); }

step_kind step_from(const json& j) {
  auto s = parse_step(j.get<std::string>());
  if (!s) throw std::invalid_argument("unknown step " + j.get<std::string>());
  return *s;
}

json resource_json(const resource_ref& r) {
  return json{{"id", r.id}, {"kind", r.kind}, {"step", step_json(r.step)}, {"attributes", r.attributes}};
}

resource_ref resource_from(const json& j) {
  resource_ref r;
  r.id = j.at("id").get<std::string>();
  r.kind = j.at("kind").get<std::string>();
  r.step = step_from(j.at("step"));
  r.attributes = j.value("attributes", string_map{});
  return r;
}

json to_json(const request_submitted& e) {
  return json{{"tenantId", e.tenant_id},
              {"orderId", e.order_id},
              {"type", e.type},
              {"region", e.region},
              {"provider", e.provider},
              {"resources",
               {{"cpu", e.resources.cpu}, {"memoryGb", e.resources.memory_gb}, {"storageGb", e.resources.storage_gb}}},
              {"metadata", e.metadata},
              {"idempotencyKey", e.idempotency_key},
              {"requestHash", e.request_hash},
              {"dependsOn", e.depends_on}};
}
// A stored JSON object kept as-is (a cluster's connection); {} if unreadable.
json kept_object(const std::string& text) {
  auto parsed = parse_json(text, "connection");
  return parsed && parsed->is_object() ? std::move(*parsed) : json::object();
}

json capacity_json(const cluster_capacity& c) {
  return json{{"cpu", c.cpu}, {"memoryGb", c.memory_gb}, {"storageGb", c.storage_gb}, {"vmSlots", c.vm_slots}};
}
cluster_capacity capacity_from(const json& j) {
  return cluster_capacity{j.at("cpu").get<int>(), j.at("memoryGb").get<int>(), j.at("storageGb").get<int>(),
                          j.at("vmSlots").get<int>()};
}
json to_json(const cluster_placed& e) {
  return json{{"clusterId", e.cluster_id}, {"reason", e.reason}, {"capacity", capacity_json(e.capacity)}};
}
json to_json(const step_started& e) {
  return json{{"step", step_json(e.step)}, {"attempt", e.attempt}, {"idempotencyKey", e.idempotency_key}};
}
json to_json(const resource_allocated& e) { return json{{"resource", resource_json(e.resource)}}; }
json to_json(const step_completed& e) {
  return json{{"step", step_json(e.step)}, {"attempt", e.attempt}, {"outputs", e.outputs}, {"adopted", e.adopted}};
}
json to_json(const step_failed& e) {
  return json{{"step", step_json(e.step)}, {"attempt", e.attempt},         {"code", e.code},
              {"message", e.message},      {"retryable", e.retryable}, {"retryAt", e.retry_at}};
}
json to_json(const request_completed& e) { return json{{"endpoints", e.endpoints}}; }
json to_json(const request_failed& e) {
  json j{{"code", e.code}, {"reason", e.reason}};
  if (e.step) j["step"] = step_json(*e.step);
  return j;
}
json to_json(const rollback_started& e) { return json{{"reason", e.reason}}; }
json to_json(const step_compensated& e) { return json{{"step", step_json(e.step)}, {"released", e.released}}; }
json to_json(const compensation_failed& e) {
  return json{{"step", step_json(e.step)}, {"attempt", e.attempt}, {"message", e.message}, {"retryAt", e.retry_at}};
}
json to_json(const rolled_back&) { return json::object(); }
json amount_json(const quota_amount& a) {
  return json{{"instances", a.instances}, {"cpu", a.cpu}, {"memoryGb", a.memory_gb}, {"storageGb", a.storage_gb}};
}
quota_amount amount_from(const json& j) {
  return quota_amount{j.at("instances").get<int>(), j.at("cpu").get<int>(), j.at("memoryGb").get<int>(),
                      j.at("storageGb").get<int>()};
}
json to_json(const quota_reserved& e) { return json{{"amount", amount_json(e.amount)}}; }
json to_json(const quota_released& e) { return json{{"amount", amount_json(e.amount)}}; }
json to_json(const quota_exceeded& e) {
  json v = json::array();
  for (auto& x : e.violations)
    v.push_back({{"dimension", x.dimension}, {"requested", x.requested}, {"used", x.used}, {"limit", x.limit}});
  return json{{"violations", v}};
}
json to_json(const approval_requested& e) {
  return json{{"ruleId", e.rule_id}, {"ruleName", e.rule_name}, {"priority", e.priority}, {"matched", e.matched}};
}
json to_json(const request_approved& e) { return json{{"comment", e.comment}}; }
json to_json(const request_rejected& e) { return json{{"reason", e.reason}}; }
json to_json(const request_admitted&) { return json::object(); }
json to_json(const quota_set& e) { return json{{"tenantId", e.tenant_id}, {"limits", amount_json(e.limits)}}; }
json opt(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }
std::optional<int> opt_from(const json& j, const char* k) {
  if (!j.contains(k) || j.at(k).is_null()) return std::nullopt;
  return j.at(k).get<int>();
}
json to_json(const approval_rule_saved& e) {
  const auto& r = e.rule;
  return json{{"rule",
               {{"id", r.id},
                {"name", r.name},
                {"tenantId", r.tenant_id},
                {"priority", r.priority},
                {"enabled", r.enabled},
                {"createdAt", r.created_at},
                {"conditions",
                 {{"minCpu", opt(r.conditions.min_cpu)},
                  {"minMemoryGb", opt(r.conditions.min_memory_gb)},
                  {"minStorageGb", opt(r.conditions.min_storage_gb)},
                  {"types", r.conditions.types},
                  {"regions", r.conditions.regions}}}}}};
}
json to_json(const approval_rule_deleted& e) { return json{{"ruleId", e.rule_id}}; }
json to_json(const action_requested& e) { return json{{"action", e.action}}; }
json to_json(const service_suspended&) { return json::object(); }
json to_json(const service_reactivated&) { return json::object(); }
json to_json(const action_failed& e) {
  return json{{"action", e.action}, {"attempt", e.attempt}, {"message", e.message}, {"retryAt", e.retry_at}};
}
json to_json(const deprovisioned&) { return json::object(); }
json to_json(const retry_requested&) { return json::object(); }
json to_json(const capacity_released& e) {
  return json{{"clusterId", e.cluster_id}, {"capacity", capacity_json(e.capacity)}};
}
json to_json(const manual_input_requested& e) { return json{{"step", step_json(e.step)}, {"message", e.message}}; }
json to_json(const manual_input_provided& e) {
  return json{{"step", step_json(e.step)},         {"host", e.host},
              {"username", e.username},            {"endpoints", e.endpoints},
              {"credential", e.credential},        {"operatorNote", e.operator_note}};
}
json to_json(const late_result_received& e) {
  json res = json::array();
  for (auto& r : e.resources) res.push_back(resource_json(r));
  return json{{"step", step_json(e.step)}, {"attempt", e.attempt}, {"resources", res}};
}
json to_json(const cluster_saved& e) {
  const auto& c = e.cluster;
  return json{{"cluster",
               {{"id", c.id},
                {"name", c.name},
                {"type", c.type},
                {"region", c.region},
                {"default", c.is_default},
                {"capacity", capacity_json(c.capacity)},
                {"health", c.health},
                {"provisioningEnabled", c.provisioning_enabled},
                {"connection", kept_object(c.connection)},
                {"secretFields", c.secret_fields},
                {"createdAt", c.created_at}}}};
}
json to_json(const cluster_deleted& e) { return json{{"clusterId", e.cluster_id}}; }

void from_json(const json& j, request_submitted& e, std::uint32_t version) {
  e.tenant_id = j.at("tenantId").get<std::string>();
  e.order_id = j.at("orderId").get<std::string>();
  e.type = j.at("type").get<std::string>();
  e.region = j.at("region").get<std::string>();
  e.provider = j.at("provider").get<std::string>();
  const auto& r = j.at("resources");
  e.resources = {r.at("cpu").get<int>(), r.at("memoryGb").get<int>(), r.at("storageGb").get<int>()};
  e.metadata = j.value("metadata", string_map{});
  e.idempotency_key = j.value("idempotencyKey", "");
  e.request_hash = j.value("requestHash", "");
  // v1 had no dependencies: upcast to an empty list.
  if (version >= 2) e.depends_on = j.value("dependsOn", std::vector<std::string>{});
}
void from_json(const json& j, cluster_placed& e, std::uint32_t version) {
  e.cluster_id = j.at("clusterId").get<std::string>();
  e.reason = j.value("reason", "");
  // v1 reserved no cluster capacity: upcast to zero.
  if (version >= 2) e.capacity = capacity_from(j.at("capacity"));
}
void from_json(const json& j, step_started& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.idempotency_key = j.at("idempotencyKey").get<std::string>();
}
void from_json(const json& j, resource_allocated& e, std::uint32_t) { e.resource = resource_from(j.at("resource")); }
void from_json(const json& j, step_completed& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.outputs = j.value("outputs", string_map{});
  e.adopted = j.value("adopted", false);
}
void from_json(const json& j, step_failed& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.code = j.value("code", "");
  e.message = j.value("message", "");
  e.retryable = j.value("retryable", false);
  e.retry_at = j.value("retryAt", time_ms{0});
}
void from_json(const json& j, request_completed& e, std::uint32_t) {
  e.endpoints = j.value("endpoints", string_map{});
}
void from_json(const json& j, request_failed& e, std::uint32_t) {
  e.code = j.value("code", "");
  e.reason = j.value("reason", "");
  if (j.contains("step")) e.step = step_from(j.at("step"));
}
void from_json(const json& j, rollback_started& e, std::uint32_t) { e.reason = j.value("reason", ""); }
void from_json(const json& j, step_compensated& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.released = j.value("released", std::vector<std::string>{});
}
void from_json(const json& j, compensation_failed& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.message = j.value("message", "");
  e.retry_at = j.value("retryAt", time_ms{0});
}
void from_json(const json&, rolled_back&, std::uint32_t) {}
void from_json(const json& j, quota_reserved& e, std::uint32_t) { e.amount = amount_from(j.at("amount")); }
void from_json(const json& j, quota_released& e, std::uint32_t) { e.amount = amount_from(j.at("amount")); }
void from_json(const json& j, quota_exceeded& e, std::uint32_t) {
  for (auto& x : j.at("violations"))
    e.violations.push_back(quota_violation{x.at("dimension").get<std::string>(), x.at("requested").get<long long>(),
                                           x.at("used").get<long long>(), x.at("limit").get<long long>()});
}
void from_json(const json& j, approval_requested& e, std::uint32_t) {
  e.rule_id = j.at("ruleId").get<std::string>();
  e.rule_name = j.value("ruleName", "");
  e.priority = j.value("priority", 0);
  e.matched = j.value("matched", std::vector<std::string>{});
}
void from_json(const json& j, request_approved& e, std::uint32_t) { e.comment = j.value("comment", ""); }
void from_json(const json& j, request_rejected& e, std::uint32_t) { e.reason = j.value("reason", ""); }
void from_json(const json&, request_admitted&, std::uint32_t) {}
void from_json(const json& j, quota_set& e, std::uint32_t) {
  e.tenant_id = j.at("tenantId").get<std::string>();
  e.limits = amount_from(j.at("limits"));
}
void from_json(const json& j, approval_rule_saved& e, std::uint32_t) {
  const auto& r = j.at("rule");
  e.rule.id = r.at("id").get<std::string>();
  e.rule.name = r.value("name", "");
  e.rule.tenant_id = r.value("tenantId", "");
  e.rule.priority = r.value("priority", 0);
  e.rule.enabled = r.value("enabled", true);
  e.rule.created_at = r.value("createdAt", time_ms{0});
  const auto& c = r.at("conditions");
  e.rule.conditions.min_cpu = opt_from(c, "minCpu");
  e.rule.conditions.min_memory_gb = opt_from(c, "minMemoryGb");
  e.rule.conditions.min_storage_gb = opt_from(c, "minStorageGb");
  e.rule.conditions.types = c.value("types", std::vector<std::string>{});
  e.rule.conditions.regions = c.value("regions", std::vector<std::string>{});
}
void from_json(const json& j, approval_rule_deleted& e, std::uint32_t) { e.rule_id = j.at("ruleId").get<std::string>(); }
void from_json(const json& j, action_requested& e, std::uint32_t) { e.action = j.at("action").get<std::string>(); }
void from_json(const json&, service_suspended&, std::uint32_t) {}
void from_json(const json&, service_reactivated&, std::uint32_t) {}
void from_json(const json& j, action_failed& e, std::uint32_t) {
  e.action = j.at("action").get<std::string>();
  e.attempt = j.value("attempt", 1);
  e.message = j.value("message", "");
  e.retry_at = j.value("retryAt", time_ms{0});
}
void from_json(const json&, deprovisioned&, std::uint32_t) {}
void from_json(const json&, retry_requested&, std::uint32_t) {}
void from_json(const json& j, capacity_released& e, std::uint32_t) {
  e.cluster_id = j.at("clusterId").get<std::string>();
  e.capacity = capacity_from(j.at("capacity"));
}
void from_json(const json& j, manual_input_requested& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.message = j.value("message", "");
}
void from_json(const json& j, manual_input_provided& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.host = j.at("host").get<std::string>();
  e.username = j.value("username", "");
  e.endpoints = j.value("endpoints", string_map{});
  e.credential = j.value("credential", "");
  e.operator_note = j.value("operatorNote", "");
}
void from_json(const json& j, late_result_received& e, std::uint32_t) {
  e.step = step_from(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  for (auto& r : j.at("resources")) e.resources.push_back(resource_from(r));
}
void from_json(const json& j, cluster_saved& e, std::uint32_t) {
  const auto& c = j.at("cluster");
  auto& o = e.cluster;
  o.id = c.at("id").get<std::string>();
  o.name = c.value("name", "");
  o.type = c.at("type").get<std::string>();
  o.region = c.at("region").get<std::string>();
  o.is_default = c.value("default", false);
  o.capacity = capacity_from(c.at("capacity"));
  o.health = c.value("health", "online");
  o.provisioning_enabled = c.value("provisioningEnabled", true);
  o.connection = dump_json(c.value("connection", json::object()));
  o.secret_fields = c.value("secretFields", std::vector<std::string>{});
  o.created_at = c.value("createdAt", time_ms{0});
}
void from_json(const json& j, cluster_deleted& e, std::uint32_t) { e.cluster_id = j.at("clusterId").get<std::string>(); }

template <class T>
result<event> decode_as(std::uint32_t version, std::string_view payload) {
  if (version == 0 || version > traits<T>::version)
    return make_error(errc::internal, std::string("unsupported schema version ") + std::to_string(version) +
                                          " of " + traits<T>::name);
  // Our own bytes: the depth limit still holds, the stricter checks are not needed.
  const json j = parse_json_lenient(payload);
  if (!j.is_object()) return make_error(errc::internal, std::string("corrupt payload of ") + traits<T>::name);
  try {
    T e;
    from_json(j, e, version);  // upcasting of older versions happens here
    return event{std::move(e)};
  } catch (const std::exception& ex) {
    return make_error(errc::internal, std::string("corrupt payload of ") + traits<T>::name + ": " + ex.what());
  }
}

using decoder = result<event> (*)(std::uint32_t, std::string_view);

template <std::size_t... I>
decoder find_decoder(std::string_view type, std::index_sequence<I...>) {
  decoder found = nullptr;
  ((type == traits<std::variant_alternative_t<I, event>>::name
        ? (found = &decode_as<std::variant_alternative_t<I, event>>, true)
        : false) ||
   ...);
  return found;
}

}  // namespace

const char* type_name(const event& e) noexcept {
  return std::visit([](const auto& x) { return traits<std::decay_t<decltype(x)>>::name; }, e);
}

std::uint32_t schema_version(const event& e) noexcept {
  return std::visit([](const auto& x) { return traits<std::decay_t<decltype(x)>>::version; }, e);
}

std::string encode_payload(const event& e) {
  return std::visit([](const auto& x) { return dump_json(to_json(x)); }, e);
}

result<event> decode_payload(std::string_view type, std::uint32_t version, std::string_view payload) {
  auto dec = find_decoder(type, std::make_index_sequence<std::variant_size_v<event>>{});
  if (!dec) return make_error(errc::internal, "unknown event type " + std::string(type));
  return dec(version, payload);
}

}  // namespace provisiond::events
