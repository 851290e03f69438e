#include "events/codec.hpp"
#include "common/json.hpp"

#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "events/catalog.hpp"
#include "events/json_mapping.hpp"

namespace provisiond::events {

using nlohmann::json;

const char* to_string(step_kind s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < step_names.size() ? step_names[i].data() : step_names[0].data();
}

std::optional<step_kind> parse_step(const std::string& s) noexcept {
  for (std::size_t i = 0; i < step_names.size(); ++i)
    if (s == step_names[i]) return static_cast<step_kind>(i);
  return std::nullopt;
}

std::string stream_for_request(const std::string& request_id) { return "request-" + request_id; }

std::string request_of_stream(const std::string& stream) {
  static constexpr std::string_view prefix = "request-";
  if (stream.compare(0, prefix.size(), prefix) != 0) return {};
  return stream.substr(prefix.size());
}

std::string event_id_of(const std::string& stream, std::uint64_t sequence) {
  auto rid = request_of_stream(stream);
  return (rid.empty() ? stream : rid) + ":" + std::to_string(sequence);
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
PROVISIOND_EVENT(webhook_saved, "webhook_saved", 1)
PROVISIOND_EVENT(webhook_deleted, "webhook_deleted", 1)
PROVISIOND_EVENT(webhook_deactivated, "webhook_deactivated", 1)
PROVISIOND_EVENT(webhook_delivery_settled, "webhook_delivery_settled", 1)
PROVISIOND_EVENT(api_key_issued, "api_key_issued", 1)
PROVISIOND_EVENT(api_key_revoked, "api_key_revoked", 1)
#undef PROVISIOND_EVENT

// Payloads: the event's own fields around the one mapping of each value
// (events/json_mapping.hpp).
json payload_json(const request_submitted& e) { return to_json(e); }
json payload_json(const cluster_placed& e) {
  return json{{"clusterId", e.cluster_id}, {"reason", e.reason}, {"capacity", to_json(e.capacity)}};
}
json payload_json(const step_started& e) {
  return json{{"step", to_json(e.step)}, {"attempt", e.attempt}, {"idempotencyKey", e.idempotency_key}};
}
json payload_json(const resource_allocated& e) { return json{{"resource", to_json(e.resource)}}; }
json payload_json(const step_completed& e) {
  return json{{"step", to_json(e.step)}, {"attempt", e.attempt}, {"outputs", e.outputs}, {"adopted", e.adopted}};
}
json payload_json(const step_failed& e) {
  return json{{"step", to_json(e.step)}, {"attempt", e.attempt},         {"code", e.code},
              {"message", e.message},      {"retryable", e.retryable}, {"retryAt", e.retry_at}};
}
json payload_json(const request_completed& e) { return json{{"endpoints", e.endpoints}}; }
json payload_json(const request_failed& e) {
  json j{{"code", e.code}, {"reason", e.reason}};
  if (e.step) j["step"] = to_json(*e.step);
  return j;
}
json payload_json(const rollback_started& e) { return json{{"reason", e.reason}}; }
json payload_json(const step_compensated& e) { return json{{"step", to_json(e.step)}, {"released", e.released}}; }
json payload_json(const compensation_failed& e) {
  return json{{"step", to_json(e.step)}, {"attempt", e.attempt}, {"message", e.message}, {"retryAt", e.retry_at}};
}
json payload_json(const rolled_back&) { return json::object(); }
json payload_json(const quota_reserved& e) { return json{{"amount", to_json(e.amount)}}; }
json payload_json(const quota_released& e) { return json{{"amount", to_json(e.amount)}}; }
json payload_json(const quota_exceeded& e) { return json{{"violations", to_json(e.violations)}}; }
json payload_json(const approval_requested& e) { return to_json(e); }
json payload_json(const request_approved& e) { return json{{"comment", e.comment}}; }
json payload_json(const request_rejected& e) { return json{{"reason", e.reason}}; }
json payload_json(const request_admitted&) { return json::object(); }
json payload_json(const quota_set& e) { return json{{"tenantId", e.tenant_id}, {"limits", to_json(e.limits)}}; }
json payload_json(const approval_rule_saved& e) { return json{{"rule", to_json(e.rule)}}; }
json payload_json(const approval_rule_deleted& e) { return json{{"ruleId", e.rule_id}}; }
json payload_json(const action_requested& e) { return json{{"action", to_string(e.action)}}; }
json payload_json(const service_suspended&) { return json::object(); }
json payload_json(const service_reactivated&) { return json::object(); }
json payload_json(const action_failed& e) {
  return json{{"action", to_string(e.action)}, {"attempt", e.attempt}, {"message", e.message}, {"retryAt", e.retry_at}};
}
json payload_json(const deprovisioned&) { return json::object(); }
json payload_json(const retry_requested&) { return json::object(); }
json payload_json(const capacity_released& e) {
  return json{{"clusterId", e.cluster_id}, {"capacity", to_json(e.capacity)}};
}
json payload_json(const manual_input_requested& e) { return json{{"step", to_json(e.step)}, {"message", e.message}}; }
json payload_json(const manual_input_provided& e) {
  return json{{"step", to_json(e.step)},         {"host", e.host},
              {"username", e.username},            {"endpoints", e.endpoints},
              {"credential", e.credential},        {"operatorNote", e.operator_note}};
}
json payload_json(const late_result_received& e) {
  json res = json::array();
  for (auto& r : e.resources) res.push_back(to_json(r));
  return json{{"step", to_json(e.step)}, {"attempt", e.attempt}, {"resources", res}};
}
json payload_json(const cluster_saved& e) { return json{{"cluster", to_json(e.cluster)}}; }
json payload_json(const cluster_deleted& e) { return json{{"clusterId", e.cluster_id}}; }
json payload_json(const webhook_saved& e) { return json{{"endpoint", to_json(e.endpoint)}}; }
json payload_json(const webhook_deleted& e) { return json{{"webhookId", e.webhook_id}}; }
json payload_json(const api_key_issued& e) {
  return json{{"keyId", e.key_id},         {"name", e.name},           {"role", e.role},
              {"tenantId", e.tenant_id},   {"readOnly", e.read_only},  {"secretSha256", e.secret_sha256},
              {"createdAt", e.created_at}, {"createdBy", e.created_by}};
}
json payload_json(const api_key_revoked& e) { return json{{"keyId", e.key_id}, {"at", e.at}, {"by", e.by}}; }
json payload_json(const webhook_delivery_settled& e) {
  json attempts = json::array();
  for (auto& a : e.attempts) attempts.push_back(to_json(a));
  return json{{"deliveryId", e.delivery_id}, {"webhookId", e.webhook_id}, {"eventId", e.event_id},
              {"status", e.status}, {"attempts", attempts}};
}
json payload_json(const webhook_deactivated& e) {
  return json{{"webhookId", e.webhook_id}, {"reason", e.reason}, {"consecutiveFailures", e.consecutive_failures}, {"at", e.at}};
}

// A stored action name; an unknown one makes the event undecodable (caught in decode).
lifecycle_action action_from(const json& j) {
  auto a = parse_lifecycle_action(j.at("action").get<std::string>());
  if (!a) throw std::invalid_argument("unknown lifecycle action");
  return *a;
}

void payload_from(const json& j, request_submitted& e, std::uint32_t version) {
  e = from_json<request_submitted>(j);
  // v1 had no dependencies: upcast to an empty list.
  if (version < 2) e.depends_on.clear();
}
void payload_from(const json& j, cluster_placed& e, std::uint32_t version) {
  e.cluster_id = j.at("clusterId").get<std::string>();
  e.reason = j.value("reason", "");
  // v1 reserved no cluster capacity: upcast to zero.
  if (version >= 2) e.capacity = from_json<cluster_capacity>(j.at("capacity"));
}
void payload_from(const json& j, step_started& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.idempotency_key = j.at("idempotencyKey").get<std::string>();
}
void payload_from(const json& j, resource_allocated& e, std::uint32_t) {
  e.resource = from_json<resource_ref>(j.at("resource"));
}
void payload_from(const json& j, step_completed& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.outputs = j.value("outputs", string_map{});
  e.adopted = j.value("adopted", false);
}
void payload_from(const json& j, step_failed& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.code = j.value("code", "");
  e.message = j.value("message", "");
  e.retryable = j.value("retryable", false);
  e.retry_at = j.value("retryAt", time_ms{0});
}
void payload_from(const json& j, request_completed& e, std::uint32_t) {
  e.endpoints = j.value("endpoints", string_map{});
}
void payload_from(const json& j, request_failed& e, std::uint32_t) {
  e.code = j.value("code", "");
  e.reason = j.value("reason", "");
  if (j.contains("step")) e.step = from_json<step_kind>(j.at("step"));
}
void payload_from(const json& j, rollback_started& e, std::uint32_t) { e.reason = j.value("reason", ""); }
void payload_from(const json& j, step_compensated& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.released = j.value("released", std::vector<std::string>{});
}
void payload_from(const json& j, compensation_failed& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  e.message = j.value("message", "");
  e.retry_at = j.value("retryAt", time_ms{0});
}
void payload_from(const json&, rolled_back&, std::uint32_t) {}
void payload_from(const json& j, quota_reserved& e, std::uint32_t) { e.amount = from_json<quota_amount>(j.at("amount")); }
void payload_from(const json& j, quota_released& e, std::uint32_t) { e.amount = from_json<quota_amount>(j.at("amount")); }
void payload_from(const json& j, quota_exceeded& e, std::uint32_t) {
  e.violations = from_json<std::vector<quota_violation>>(j.at("violations"));
}
void payload_from(const json& j, approval_requested& e, std::uint32_t) { e = from_json<approval_requested>(j); }
void payload_from(const json& j, request_approved& e, std::uint32_t) { e.comment = j.value("comment", ""); }
void payload_from(const json& j, request_rejected& e, std::uint32_t) { e.reason = j.value("reason", ""); }
void payload_from(const json&, request_admitted&, std::uint32_t) {}
void payload_from(const json& j, quota_set& e, std::uint32_t) {
  e.tenant_id = j.at("tenantId").get<std::string>();
  e.limits = from_json<quota_amount>(j.at("limits"));
}
void payload_from(const json& j, approval_rule_saved& e, std::uint32_t) { e.rule = from_json<approval_rule>(j.at("rule")); }
void payload_from(const json& j, approval_rule_deleted& e, std::uint32_t) { e.rule_id = j.at("ruleId").get<std::string>(); }
void payload_from(const json& j, action_requested& e, std::uint32_t) { e.action = action_from(j); }
void payload_from(const json&, service_suspended&, std::uint32_t) {}
void payload_from(const json&, service_reactivated&, std::uint32_t) {}
void payload_from(const json& j, action_failed& e, std::uint32_t) {
  e.action = action_from(j);
  e.attempt = j.value("attempt", 1);
  e.message = j.value("message", "");
  e.retry_at = j.value("retryAt", time_ms{0});
}
void payload_from(const json&, deprovisioned&, std::uint32_t) {}
void payload_from(const json&, retry_requested&, std::uint32_t) {}
void payload_from(const json& j, capacity_released& e, std::uint32_t) {
  e.cluster_id = j.at("clusterId").get<std::string>();
  e.capacity = from_json<cluster_capacity>(j.at("capacity"));
}
void payload_from(const json& j, manual_input_requested& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.message = j.value("message", "");
}
void payload_from(const json& j, manual_input_provided& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.host = j.at("host").get<std::string>();
  e.username = j.value("username", "");
  e.endpoints = j.value("endpoints", string_map{});
  e.credential = j.value("credential", "");
  e.operator_note = j.value("operatorNote", "");
}
void payload_from(const json& j, late_result_received& e, std::uint32_t) {
  e.step = from_json<step_kind>(j.at("step"));
  e.attempt = j.at("attempt").get<int>();
  for (auto& r : j.at("resources")) e.resources.push_back(from_json<resource_ref>(r));
}
void payload_from(const json& j, cluster_saved& e, std::uint32_t) { e.cluster = from_json<cluster_config>(j.at("cluster")); }
void payload_from(const json& j, cluster_deleted& e, std::uint32_t) { e.cluster_id = j.at("clusterId").get<std::string>(); }
void payload_from(const json& j, webhook_saved& e, std::uint32_t) { e.endpoint = from_json<webhook_endpoint>(j.at("endpoint")); }
void payload_from(const json& j, webhook_deleted& e, std::uint32_t) { e.webhook_id = j.at("webhookId").get<std::string>(); }
void payload_from(const json& j, api_key_issued& e, std::uint32_t) {
  e.key_id = j.at("keyId").get<std::string>();
  e.name = j.at("name").get<std::string>();
  e.role = j.at("role").get<std::string>();
  e.tenant_id = j.at("tenantId").get<std::string>();
  e.read_only = j.at("readOnly").get<bool>();
  e.secret_sha256 = j.at("secretSha256").get<std::string>();
  e.created_at = j.at("createdAt").get<time_ms>();
  e.created_by = j.at("createdBy").get<std::string>();
}
void payload_from(const json& j, api_key_revoked& e, std::uint32_t) {
  e.key_id = j.at("keyId").get<std::string>();
  e.at = j.at("at").get<time_ms>();
  e.by = j.at("by").get<std::string>();
}
void payload_from(const json& j, webhook_delivery_settled& e, std::uint32_t) {
  e.delivery_id = j.at("deliveryId").get<std::string>();
  e.webhook_id = j.at("webhookId").get<std::string>();
  e.event_id = j.value("eventId", "");
  e.status = j.at("status").get<std::string>();
  for (auto& a : j.value("attempts", json::array())) e.attempts.push_back(from_json<webhook_attempt>(a));
}
void payload_from(const json& j, webhook_deactivated& e, std::uint32_t) {
  e.webhook_id = j.at("webhookId").get<std::string>();
  e.reason = j.value("reason", "");
  e.consecutive_failures = j.value("consecutiveFailures", 0);
  e.at = j.value("at", time_ms{0});
}

// Every number the encoder writes is an integer. A float beyond int's range
// (a corrupt or forged record: an integer literal too long for 64 bits is
// read as one) would make the readers' get<int>() undefined behaviour.
bool has_oversized_float(const json& j) {
  if (j.is_number_float()) {
    const double v = j.get<double>();
    return !(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max());
  }
  if (j.is_structured())
    for (const auto& x : j)
      if (has_oversized_float(x)) return true;
  return false;
}

template <class T>
result<event> decode_as(std::uint32_t version, std::string_view payload) {
  if (version == 0 || version > traits<T>::version)
    return make_error(errc::internal, std::string("unsupported schema version ") + std::to_string(version) +
                                          " of " + traits<T>::name);
  // Our own bytes: the depth limit still holds, the stricter checks are not needed.
  const json j = parse_json_lenient(payload);
  if (!j.is_object()) return make_error(errc::internal, std::string("corrupt payload of ") + traits<T>::name);
  if (has_oversized_float(j))
    return make_error(errc::internal, std::string("corrupt payload of ") + traits<T>::name + ": a number out of range");
  try {
    T e;
    payload_from(j, e, version);  // upcasting of older versions happens here
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

template <std::size_t... I>
std::vector<std::string> names_of(std::index_sequence<I...>) {
  return {traits<std::variant_alternative_t<I, event>>::name...};
}

const std::vector<std::string>& all_type_names() {
  static const auto names = names_of(std::make_index_sequence<std::variant_size_v<event>>{});
  return names;
}

std::uint32_t schema_version(const event& e) noexcept {
  return std::visit([](const auto& x) { return traits<std::decay_t<decltype(x)>>::version; }, e);
}

std::string encode_payload(const event& e) {
  return std::visit([](const auto& x) { return dump_json(payload_json(x)); }, e);
}

result<event> decode_payload(std::string_view type, std::uint32_t version, std::string_view payload) {
  auto dec = find_decoder(type, std::make_index_sequence<std::variant_size_v<event>>{});
  if (!dec) return make_error(errc::internal, "unknown event type " + std::string(type));
  return dec(version, payload);
}

}  // namespace provisiond::events
