#include "gateway/routes.hpp"

#include "auth/authenticator.hpp"
#include "common/ids.hpp"
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
    {"GET",    "/healthz",                      h::healthz,             access::anyone, 0},
    {"GET",    "/readyz",                       h::readyz,              access::anyone, 0},
    {"GET",    "/metrics",                      h::prometheus_metrics,  access::metrics,  0},
    {"GET",    "/v1/system",                    h::system_info,         access::admin_read,  0},
    {"GET",    "/v1/simulation/ledger",         h::simulation_ledger,   access::admin_read,  0},
    {"GET",    "/openapi.json",                 h::openapi_document,    access::anyone, 0},
    // stream.cpp
    {"GET",    "/v1/events/stream",             h::live_events,         access::tenant_read, 0},
    // requests.cpp
    {"GET",    "/v1/requests",                  h::list_requests,       access::tenant_read, 0},
    {"POST",   "/v1/requests",                  h::create_request,      access::tenant_write,   1 * MiB},
    {"GET",    "/v1/requests/{id}",             h::get_request,         access::tenant_read, 0},
    // lifecycle.cpp (one per events::lifecycle_actions)
    {"POST",   "/v1/requests/{id}/suspend",     h::lifecycle_action,    access::tenant_write,   0},
    {"POST",   "/v1/requests/{id}/reactivate",  h::lifecycle_action,    access::tenant_write,   0},
    {"POST",   "/v1/requests/{id}/deprovision", h::lifecycle_action,    access::tenant_write,   0},
    {"POST",   "/v1/requests/{id}/retry",       h::lifecycle_action,    access::saga_write,   0},
    // audit.cpp
    {"GET",    "/v1/requests/{id}/events",      h::request_events,      access::admin_read,  0},
    {"GET",    "/v1/requests/{id}/state",       h::request_state_at,    access::admin_read,  0},
    // manual.cpp
    {"GET",    "/v1/manual-requests",           h::manual_requests,     access::admin_read,  0},
    {"POST",   "/v1/requests/{id}/complete",    h::complete_request,    access::admin_write,  64 * KiB,  h::secret_request},
    {"GET",    "/v1/requests/{id}/credentials", h::request_credentials, access::tenant_write, 0,         h::secret_request},
    {"GET",    "/v1/requests/{id}/metrics",     h::request_metrics,     access::tenant_read, 0},
    // clusters.cpp
    {"GET",    "/v1/clusters",                  h::list_clusters,       access::admin_read,  0,         h::cluster_registry},
    {"POST",   "/v1/clusters",                  h::create_cluster,      access::admin_write,  256 * KiB, h::cluster_registry},
    {"GET",    "/v1/clusters/{id}",             h::get_cluster,         access::admin_read,  0,         h::existing_cluster},
    {"PUT",    "/v1/clusters/{id}",             h::update_cluster,      access::admin_write,  256 * KiB, h::existing_cluster},
    {"DELETE", "/v1/clusters/{id}",             h::delete_cluster,      access::admin_write,  0,         h::existing_cluster},
    {"POST",   "/v1/clusters/{id}/test",        h::test_cluster,        access::admin_write,  0,         h::existing_cluster},
    // governance.cpp
    {"GET",    "/v1/tenants/{id}/quota",        h::get_quota,           access::tenant_read, 0,         h::governed_tenant},
    {"PUT",    "/v1/tenants/{id}/quota",        h::put_quota,           access::admin_write,  4 * KiB,   h::governed_tenant},
    {"GET",    "/v1/tenants/{id}/usage",        h::tenant_usage,        access::tenant_read, 0,         h::governed_tenant},
    {"GET",    "/v1/approval-rules",            h::list_rules,          access::admin_read,  0,         h::governance_wired},
    {"POST",   "/v1/approval-rules",            h::create_rule,         access::admin_write,  64 * KiB,  h::governance_wired},
    {"GET",    "/v1/approval-rules/{id}",       h::get_rule,            access::admin_read,  0,         h::governance_wired},
    {"PUT",    "/v1/approval-rules/{id}",       h::update_rule,         access::admin_write,  64 * KiB,  h::governance_wired},
    {"DELETE", "/v1/approval-rules/{id}",       h::delete_rule,         access::admin_write,  0,         h::governance_wired},
    {"GET",    "/v1/approvals",                 h::pending_approvals,   access::admin_read,  0,         h::governance_wired},
    {"POST",   "/v1/requests/{id}/approve",     h::approve_request,     access::admin_write,  16 * KiB,  h::governance_wired},
    {"POST",   "/v1/requests/{id}/reject",      h::reject_request,      access::admin_write,  16 * KiB,  h::governance_wired},
    // webhooks.cpp ({id} is the tenant)
    {"GET",    "/v1/webhooks",                  h::list_all_webhooks,   access::admin_read,  0,         h::webhooks_wired},
    {"GET",    "/v1/tenants/{id}/webhooks",     h::list_webhooks,       access::tenant_read, 0,         h::webhooks_wired},
    {"POST",   "/v1/tenants/{id}/webhooks",     h::create_webhook,      access::tenant_write, 16 * KiB,  h::webhooks_wired},
    {"GET",    "/v1/tenants/{id}/webhooks/{webhookId}", h::get_webhook,  access::tenant_read, 0,         h::tenant_webhook},
    {"PUT",    "/v1/tenants/{id}/webhooks/{webhookId}", h::update_webhook, access::tenant_write, 16 * KiB, h::tenant_webhook},
    {"DELETE", "/v1/tenants/{id}/webhooks/{webhookId}", h::delete_webhook, access::tenant_write, 0,       h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/rotate-secret", h::rotate_webhook_secret, access::tenant_write, 4 * KiB,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/deactivate", h::deactivate_webhook, access::admin_write, 4 * KiB,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/test", h::test_webhook, access::tenant_write, 0,    h::tenant_webhook},
    {"GET",    "/v1/tenants/{id}/webhooks/{webhookId}/deliveries", h::list_deliveries, access::tenant_read, 0,
               h::tenant_webhook},
    {"POST",   "/v1/tenants/{id}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", h::redeliver, access::tenant_write,
               0, h::tenant_webhook},
    // keys.cpp
    {"GET",    "/v1/whoami",                    h::whoami,              access::tenant_read, 0},
    {"GET",    "/v1/api-keys",                  h::list_api_keys,       access::admin_read,  0,        h::keys_wired},
    {"POST",   "/v1/api-keys",                  h::create_api_key,      access::admin_write, 4 * KiB,  h::keys_wired},
    {"GET",    "/v1/api-keys/{id}",             h::get_api_key,         access::admin_read,  0,        h::keys_wired},
    {"DELETE", "/v1/api-keys/{id}",             h::revoke_api_key,      access::admin_write, 0,        h::keys_wired},
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

int authorize(access a, const auth::principal* who, bool public_metrics) noexcept {
  using auth::role;
  if (a == access::anyone || (a == access::metrics && public_metrics)) return 0;
  if (!who) return 401;
  switch (a) {
    case access::anyone:
      return 0;
    case access::tenant_read:
      return 0;  // every role reads; tenant roles only their own (the ownership check)
    case access::tenant_write:
      return who->may_write() ? 0 : 403;
    case access::metrics:
    case access::admin_read:
      return who->r == role::admin ? 0 : 403;
    case access::admin_write:
      return who->r == role::admin && who->may_write() ? 0 : 403;
    case access::saga_write:
      return (who->r == role::admin || who->r == role::saga) && who->may_write() ? 0 : 403;
  }
  return 403;
}

namespace {

http_response refusal(int status, const route& r) {
  if (status == 401) {
    auto out = error_response(make_error(errc::unauthenticated, "credentials required: Authorization: Bearer <API key or token>"));
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"provisiond\"");
    return out;
  }
  return error_response(make_error(errc::forbidden, "this needs " + std::string(to_string(r.needs)) + " access",
                                   "Authorization"));
}

// A tenant-scoped caller sees only its own tenant's objects; anything else
// (another tenant's, or nothing at all) gets one and the same answer, which
// does not even repeat the id.
std::optional<http_response> not_theirs(const api_backend& b, const route& r, const route_call& c) {
  if (!c.who.tenant_scoped()) return std::nullopt;
  if (r.pattern.starts_with("/v1/requests/{id}")) {
    const auto& id = c.param("id");
    if (!is_valid_id(id) || !c.who.sees(request_tenant(b, id)))
      return error_response(make_error(errc::not_found, "no such request"));
  } else if (r.pattern.starts_with("/v1/tenants/{id}")) {
    if (!c.who.sees(c.param("id"))) return error_response(make_error(errc::not_found, "no such tenant"));
  }
  return std::nullopt;
}

}  // namespace

bool needs_no_credentials(const http_request& req, bool public_metrics) {
  if (req.method == "GET" && (req.path == "/console" || req.path.starts_with("/console/"))) return true;
  const auto segments = split_path(req.path);
  for (const auto& r : table)
    if (r.method == req.method && match(r.pattern, segments)) return authorize(r.needs, nullptr, public_metrics) == 0;
  return false;
}

http_response dispatch(const api_backend& b, const http_request& req, const auth::principal* who,
                       const route** answered) {
  if (answered) *answered = nullptr;
  if (auto file = h::console_file(req)) return std::move(*file);
  const auto segments = split_path(req.path);
  const route* matched = nullptr;
  std::optional<std::vector<std::pair<std::string_view, std::string>>> params;
  std::string allow;
  for (const auto& r : table) {
    if (matched && r.pattern != matched->pattern) continue;
    if (!matched) {
      params = match(r.pattern, segments);
      if (!params) continue;
      matched = &r;
    }
    if (r.method != req.method) {
      allow += (allow.empty() ? "" : ", ") + std::string(r.method);
      continue;
    }
    if (answered) *answered = &r;
    if (int refused = authorize(r.needs, who, b.auth && b.auth->config().public_metrics); refused) {
      auth::audit_denied(req.method, req.path, refused, refused == 401 ? "no_credentials" : "role",
                         who ? who->subject : "");
      return refusal(refused, r);
    }
    static const auth::principal nobody{};
    route_call call{req, who ? *who : nobody, std::move(*params)};
    if (auto hidden = not_theirs(b, r, call)) {
      auth::audit_denied(req.method, req.path, 404, "other_tenant", call.who.subject);
      return std::move(*hidden);
    }
    if (b.forward)  // scaled out: a write another instance owns is answered there
      if (auto elsewhere = b.forward(req)) return std::move(*elsewhere);
    if (r.guard)
      if (auto missing = r.guard(b, call)) return std::move(*missing);
    return r.handler(b, call);
  }
  if (!matched) return no_route(req);
  return detail::method_not_allowed(allow);
}

}  // namespace provisiond::gateway
