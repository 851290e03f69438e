#pragma once
/// The route table: every HTTP route of provisiond as method + pattern →
/// handler, with the role it will need once authentication exists and the
/// largest body it takes. Declared in one place (routes.cpp) so a test can
/// walk it and gateway/README.md can list it; the handlers live by resource
/// in gateway/handlers/.
///
/// Dispatch: the path's segments (empty ones ignored, so `//v1/requests/`
/// is `/v1/requests`) are matched against the patterns; `{name}` takes any
/// one segment. No pattern: 404. A pattern with a guard runs it next (the
/// resource the path names must exist, whatever the method: 404 otherwise).
/// Then the method: none of the pattern's entries has it → 405 with `Allow`
/// listing theirs in table order.

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/api.hpp"
#include "gateway/http_server.hpp"

namespace provisiond::gateway {

/// Who a route is for. Nothing enforces it yet: it states what the
/// authenticating gateway in front of provisiond is expected to check.
enum class role {
  anyone,  ///< "public": probes, no credentials
  tenant,  ///< a tenant, for its own requests (X-Tenant-Id)
  saga,    ///< the Order saga (orders and the service lifecycle, as over Kafka)
  admin,   ///< the hosting platform's operators
};

/// "public", "tenant", "saga", "admin"; index = `role`.
inline constexpr std::array<std::string_view, 4> role_names = {"public", "tenant", "saga", "admin"};
inline std::string_view to_string(role r) {
  return role_names[static_cast<std::size_t>(r)];
}

/// One matched request as a handler sees it.
struct route_call {
  const http_request& req;
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
  role needs;
  /// The largest body the route takes; 0: none (a body sent is ignored).
  /// Stated, not yet enforced per route: the server's one limit
  /// (`http_limits::body_limit`, 1 MiB) answers 413 above it for all.
  std::size_t body_limit;
  route_guard guard = nullptr;  ///< the same for every entry of a pattern
};

/// Every route, grouped by resource. Stable for the process's life.
std::span<const route> route_table();

/// Routes `req` through the table (see the top of this header). May throw
/// what a handler throws; `handle()` turns that into a 500.
http_response dispatch(const api_backend& b, const http_request& req);

/// 404 "no route for <METHOD> <path>".
http_response no_route(const http_request& req);

}  // namespace provisiond::gateway
