#pragma once
/// The route table: every HTTP route of provisiond as method + pattern →
/// handler, with who may call it and the largest body it takes. Declared in one place (routes.cpp) so a test can
/// walk it and gateway/README.md can list it; the handlers live by resource
/// in gateway/handlers/.
///
/// Dispatch: the path's segments (empty ones ignored, so `//v1/requests/`
/// is `/v1/requests`) are matched against the patterns; `{name}` takes any
/// one segment. No pattern: 404. A pattern with a guard runs it next (the
/// resource the path names must exist, whatever the method: 404 otherwise).
/// Then the method: none of the pattern's entries has it → 405 with `Allow`
/// listing theirs in table order.
///
/// Authorization (after the pattern and method matched, before the guard):
/// the route's `access` against the caller (auth/principal.hpp): none and
/// the route needs one → 401; not enough → 403. Then ownership: a
/// tenant-scoped caller on `/v1/requests/{id}...` of a request that is not
/// its tenant's, or on `/v1/tenants/{id}...` of another tenant, gets the
/// same 404 as for something that does not exist (no existence oracle).

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/principal.hpp"
#include "gateway/api.hpp"
#include "gateway/http_server.hpp"

namespace provisiond::gateway {

/// Who may call a route (the roles are auth::role).
enum class access {
  anyone,        ///< no credentials: probes, the OpenAPI document
  metrics,       ///< admin, or anyone with auth.publicMetrics
  tenant_read,   ///< tenant and tenant-readonly (own objects), saga, admin
  tenant_write,  ///< tenant with a read-write credential (own objects), saga, admin
  admin_read,    ///< admin
  admin_write,   ///< admin with a read-write credential; audited as an admin change
  saga_write,    ///< the saga or an admin, read-write: the lifecycle tenants do not drive themselves (retry)
};

/// "anyone", "metrics", "tenant-read", ...; index = `access`.
inline constexpr std::array<std::string_view, 7> access_names = {
    "anyone", "metrics", "tenant-read", "tenant-write", "admin-read", "admin-write", "saga-write"};
inline std::string_view to_string(access a) {
  return access_names[static_cast<std::size_t>(a)];
}

/// Whether `who` (nullptr: no credentials) may call a route needing `a`:
/// 0 yes, 401 no credentials, 403 not enough.
int authorize(access a, const auth::principal* who, bool public_metrics) noexcept;

/// One matched request as a handler sees it.
struct route_call {
  const http_request& req;
  const auth::principal& who;  ///< the caller (authenticated, allowed on this route)
  std::vector<std::pair<std::string_view, std::string>> params;  ///< `{name}` → segment, in pattern order
  /// The segment matched by `{name}` (empty if the pattern has none).
  const std::string& param(std::string_view name) const;
  /// The path's last segment (a lifecycle route's action).
  std::string_view last_segment() const;
};

using route_handler = http_response (*)(const api_backend&, const route_call&);
/// Runs before the method is looked at: an answer (404) if the resource the
/// path names is not there, nullopt to go on.
using route_guard = std::optional<http_response> (*)(const api_backend&, const route_call&);

inline constexpr std::size_t KiB = 1024;
inline constexpr std::size_t MiB = 1024 * KiB;

struct route {
  std::string_view method;   ///< "GET", "POST", "PUT", "DELETE" (compared exactly)
  std::string_view pattern;  ///< "/v1/requests/{id}/suspend"
  route_handler handler;
  access needs;
  /// The largest body the route takes; 0: none (a body sent is ignored).
  /// Stated, not yet enforced per route: the server's one limit
  /// (`http_limits::body_limit`, 1 MiB) answers 413 above it for all.
  std::size_t body_limit;
  route_guard guard = nullptr;  ///< the same for every entry of a pattern
};

/// Every route, grouped by resource. Stable for the process's life.
std::span<const route> route_table();

/// Routes `req` through the table for `who` (nullptr: no credentials; see
/// the top of this header). `matched` (if given) is set to the route that
/// answered, nullptr when none did. May throw what a handler throws;
/// `handle()` turns that into a 500.
http_response dispatch(const api_backend& b, const http_request& req, const auth::principal* who,
                       const route** matched = nullptr);

/// Whether `req` would reach a route that needs no credentials (the probes,
/// the OpenAPI document, the console; /metrics when public): such a call
/// is served even when the credentials it sent are refused.
bool needs_no_credentials(const http_request& req, bool public_metrics);

/// 404 "no route for <METHOD> <path>".
http_response no_route(const http_request& req);

}  // namespace provisiond::gateway
