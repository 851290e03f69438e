#include "providers/openstack/errors.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "providers/openstack/detail/error_body.hpp"
#include "providers/openstack/detail/json_fields.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::openstack {

namespace detail {

std::string cloud_message(const std::string& body) {
  auto j = parse_json_lenient(body);
  if (!j.is_object() || j.empty()) return body.substr(0, 300);
  if (j.contains("NeutronError") && j["NeutronError"].is_object()) {
    auto& e = j["NeutronError"];
    return str_or(e, "type") + ": " + str_or(e, "message");
  }
  for (auto& [k, v] : j.items())
    if (v.is_object() && v.contains("message")) return str_or(v, "message");
  return body.substr(0, 300);
}

std::string neutron_type(const std::string& body) {
  auto j = parse_json_lenient(body);
  if (j.is_object() && j.contains("NeutronError") && j["NeutronError"].is_object())
    return str_or(j["NeutronError"], "type");
  return {};
}

}  // namespace detail

namespace {

constexpr auto retryable = errc::retryable;
constexpr auto permanent = errc::permanent;

constexpr std::array<classification_rule, 14> table{{
    {400, match::any, "", permanent, "bad_request"},             // fix the request; a Neutron FIP pool exhausted too
    {401, match::any, "", permanent, "auth"},                    // after the one re-authentication (session)
    {403, match::message_contains, "uota", permanent, "quota"},  // Nova "Quota exceeded…"
    {403, match::any, "", permanent, "forbidden"},               // policy, zero-disk flavor, external network
    {404, match::any, "", permanent, "not_found"},               // a referenced resource
    {409, match::neutron_type, "OverQuota", permanent, "quota"},
    {409, match::neutron_type, "IpAddressGenerationFailure", permanent, "subnet_full"},
    {409, match::neutron_type, "SecurityGroupInUse", retryable, "busy"},  // ports still being torn down
    {409, match::message_contains, "task_state", retryable, "busy"},      // a Nova action in progress
    {409, match::any, "", permanent, "conflict"},                         // PortInUse, NetworkAmbiguous, ...
    {412, match::any, "", retryable, "stale"},                            // If-Match: re-GET and reapply
    // Cinder's quota overrun carries Retry-After: 0 — permanent, never a rate limit.
    {413, match::retry_after_nonzero, "", retryable, "rate_limited"},
    {413, match::any, "", permanent, "quota"},
    {429, match::any, "", retryable, "rate_limited"},
}};

bool fits(const classification_rule& r, const std::string& msg, const std::string& type,
          const std::string& retry_after) {
  switch (r.when) {
    case match::any: return true;
    case match::neutron_type: return type == r.text;
    case match::message_contains: return msg.find(r.text) != std::string::npos;
    case match::retry_after_nonzero: return !retry_after.empty() && retry_after != "0";
  }
  return false;
}

}  // namespace

std::span<const classification_rule> classification_table() {
  return table;
}

error classify(int status, const std::string& body, const std::string& retry_after, const std::string& what) {
  auto msg = what + ": HTTP " + std::to_string(status) + ": " + detail::cloud_message(body);
  auto type = detail::neutron_type(body);
  for (const auto& r : table)
    if (r.status == status && fits(r, msg, type, retry_after)) return make_error(r.code, msg, r.field);
  if (status >= 500) return retryable_error("server_error", msg);
  return permanent_error("unexpected", msg);
}

}  // namespace provisiond::providers::openstack
