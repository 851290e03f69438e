#include "gateway/routes.hpp"

#include "common/result.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway {

namespace {

namespace h = handlers;

// Entries of one pattern are listed together, in the order `Allow` names
// their methods. Body limits: what the largest valid body of the route can
// reasonably be (JSON escapes included); never above the server's 1 MiB.
// clang-format off
constexpr route table[] = {
    // method  pattern                          handler                 needs         body       guard
    // system.cpp
    {"GET",    "/healthz",                      h::healthz,             role::anyone, 0},
    {"GET",    "/readyz",                       h::readyz,              role::anyone, 0},
    {"GET",    "/metrics",                      h::prometheus_metrics,  role::admin,  0},
    {"GET",    "/v1/system",                    h::system_info,         role::admin,  0},
    {"GET",    "/v1/simulation/ledger",         h::simulation_ledger,   role::admin,  0},
    {"GET",    "/openapi.json",                 h::openapi_document,    role::anyone, 0},
    // stream.cpp
    {"GET",    "/v1/events/stream",             h::live_events,         role::tenant, 0},
    // requests.cpp
    {"GET",    "/v1/requests",                  h::list_requests,       role::tenant, 0},
    {"POST",   "/v1/requests",                  h::create_request,      role::saga,   1 * MiB},
    {"GET",    "/v1/requests/{id}",             h::get_request,         role::tenant, 0},
    // lifecycle.cpp (one per events::lifecycle_actions)
    {"POST",   "/v1/requests/{id}/suspend",     h::lifecycle_action,    role::saga,   0},
    {"POST",   "/v1/requests/{id}/reactivate",  h::lifecycle_action,    role::saga,   0},
    {"POST",   "/v1/requests/{id}/deprovision", h::lifecycle_action,    role::saga,   0},
    {"POST",   "/v1/requests/{id}/retry",       h::lifecycle_action,    role::admin,  0},
    // audit.cpp
    {"GET",    "/v1/requests/{id}/events",      h::request_events,      role::admin,  0},
    {"GET",    "/v1/requests/{id}/state",       h::request_state_at,    role::admin,  0},
    // manual.cpp
    {"GET",    "/v1/manual-requests",           h::manual_requests,     role::admin,  0},
    {"POST",   "/v1/requests/{id}/complete",    h::complete_request,    role::admin,  64 * KiB,  h::secret_request},
    {"GET",    "/v1/requests/{id}/credentials", h::request_credentials, role::tenant, 0,         h::secret_request},
    {"GET",    "/v1/requests/{id}/metrics",     h::request_metrics,     role::tenant, 0},
    // clusters.cpp
    {"GET",    "/v1/clusters",                  h::list_clusters,       role::admin,  0,         h::cluster_registry},
    {"POST",   "/v1/clusters",                  h::create_cluster,      role::admin,  256 * KiB, h::cluster_registry},
    {"GET",    "/v1/clusters/{id}",             h::get_cluster,         role::admin,  0,         h::existing_cluster},
    {"PUT",    "/v1/clusters/{id}",             h::update_cluster,      role::admin,  256 * KiB, h::existing_cluster},
    {"DELETE", "/v1/clusters/{id}",             h::delete_cluster,      role::admin,  0,         h::existing_cluster},
    {"POST",   "/v1/clusters/{id}/test",        h::test_cluster,        role::admin,  0,         h::existing_cluster},
    // governance.cpp
    {"GET",    "/v1/tenants/{id}/quota",        h::get_quota,           role::tenant, 0,         h::governed_tenant},
    {"PUT",    "/v1/tenants/{id}/quota",        h::put_quota,           role::admin,  4 * KiB,   h::governed_tenant},
    {"GET",    "/v1/tenants/{id}/usage",        h::tenant_usage,        role::tenant, 0,         h::governed_tenant},
    {"GET",    "/v1/approval-rules",            h::list_rules,          role::admin,  0,         h::governance_wired},
    {"POST",   "/v1/approval-rules",            h::create_rule,         role::admin,  64 * KiB,  h::governance_wired},
    {"GET",    "/v1/approval-rules/{id}",       h::get_rule,            role::admin,  0,         h::governance_wired},
    {"PUT",    "/v1/approval-rules/{id}",       h::update_rule,         role::admin,  64 * KiB,  h::governance_wired},
    {"DELETE", "/v1/approval-rules/{id}",       h::delete_rule,         role::admin,  0,         h::governance_wired},
    {"GET",    "/v1/approvals",                 h::pending_approvals,   role::admin,  0,         h::governance_wired},
    {"POST",   "/v1/requests/{id}/approve",     h::approve_request,     role::admin,  16 * KiB,  h::governance_wired},
    {"POST",   "/v1/requests/{id}/reject",      h::reject_request,      role::admin,  16 * KiB,  h::governance_wired},
    // webhooks.cpp ({id} is the tenant)
    {"GET",    "/v1/webhooks",                  h::list_all_webhooks,   role::admin,  0,         h::webhooks_wired},
    {"GET",    "/v1/tenants/{id}/webhooks",     h::list_webhooks,       role::tenant, 0,         h::webhooks_wired},
    {"POST",   "/v1/tenants/{id}/webhooks",     h::create_webhook,      role::tenant, 16 * KiB,  h::webhooks_wired},
    {"GET",    "/v1/tenants/{id}/webhooks/{webhookId}", h::get_webhook,  role::tenant, 0,         h::tenant_webhook},
    {"PUT",    "/v1/tenants/{id}/webhooks/{webhookId}", h::update_webhook, role::tenant, 16 * KiB, h::tenant_webhook},
    {"DELETE", "/v1/tenants/{id}/webhooks/{webhookId}", h::delete_webhook, role::tenant, 0,       h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/rotate-secret", h::rotate_webhook_secret, role::tenant, 4 * KiB,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/deactivate", h::deactivate_webhook, role::admin, 4 * KiB,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/test", h::test_webhook, role::tenant, 0,    h::tenant_webhook},
    {"GET",    "/v1/tenants/{id}/webhooks/{webhookId}/deliveries", h::list_deliveries, role::tenant, 0,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", h::redeliver, role::tenant,
               0, h::tenant_webhook},
};
// clang-format on

// The path's non-empty segments.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// The `{name}` captures if `pattern` matches the segments.
std::optional<std::vector<std::pair<std::string_view, std::string>>> match(std::string_view pattern,
                                                                           const std::vector<std::string>& segments) {
  std::vector<std::pair<std::string_view, std::string>> params;
  std::size_t n = 0;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);  // the '/'
    auto end = pattern.find('/');
    auto piece = pattern.substr(0, end);
    pattern = end == std::string_view::npos ? std::string_view{} : pattern.substr(end);
    if (n == segments.size()) return std::nullopt;
    if (piece.size() > 2 && piece.front() == '{' && piece.back() == '}')
      params.emplace_back(piece.substr(1, piece.size() - 2), segments[n]);
    else if (piece != segments[n])
      return std::nullopt;
    ++n;
  }
  if (n != segments.size()) return std::nullopt;
  return params;
}

}  // namespace

const std::string& route_call::param(std::string_view name) const {
  static const std::string none;
  for (auto& [k, v] : params)
    if (k == name) return v;
  return none;
}

std::string_view route_call::last_segment() const {
  std::string_view p = req.path;
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::span<const route> route_table() {
  return table;
}

http_response no_route(const http_request& req) {
  return error_response(make_error(errc::not_found, "no route for " + req.method + " " + req.path));
}

http_response dispatch(const api_backend& b, const http_request& req) {
  if (auto file = h::console_file(req)) return std::move(*file);
  const auto segments = split_path(req.path);
  const route* matched = nullptr;
  std::optional<route_call> call;
  std::string allow;
  for (const auto& r : table) {
    if (matched && r.pattern != matched->pattern) continue;
    if (!matched) {
      auto params = match(r.pattern, segments);
      if (!params) continue;
      matched = &r;
      call.emplace(route_call{req, std::move(*params)});
      if (r.guard)
        if (auto refused = r.guard(b, *call)) return std::move(*refused);
    }
    if (r.method == req.method) return r.handler(b, *call);
    allow += (allow.empty() ? "" : ", ") + std::string(r.method);
  }
  if (!matched) return no_route(req);
  return detail::method_not_allowed(allow);
}

}  // namespace provisiond::gateway
