// Service lifecycle: POST /v1/requests/{id}/suspend | reactivate | deprovision | retry.
#include "common/ids.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

http_response lifecycle_action(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  if (!is_valid_id(id)) return error_response(detail::no_request(id));
  auto action = events::parse_lifecycle_action(c.last_segment());
  if (!action) return error_response(detail::no_request(id));  // the route table lists only the four actions
  auto r = b.engine->lifecycle(request_id{id}, *action);
  if (!r) return error_response(r.error());
  return detail::json_response(200, {{"id", id}, {"state", *r}});
}

}  // namespace provisiond::gateway::handlers
