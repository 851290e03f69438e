// Requests: create (POST /v1/requests), list, get one.
#include <algorithm>
#include <chrono>

#include "common/ids.hpp"
#include "events/catalog.hpp"
#include "gateway/commands.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

namespace ev = provisiond::events;
using detail::bad;
using detail::json_response;

http_response create_request(const api_backend& b, const route_call& c) {
  const auto& req = c.req;
  // Lenient on purpose: curl -d sends x-www-form-urlencoded; only clearly
  // non-JSON media types are refused.
  auto ctype = req.header("content-type");
  if (ctype.starts_with("multipart/") || ctype.find("xml") != std::string::npos)
    return error_response(bad("Content-Type", "expected application/json"));
  auto sub = parse_submission(req.body);
  if (!sub) return error_response(sub.error());
  if (c.who.tenant_scoped() && sub->spec.tenant_id != c.who.tenant)
    return error_response(make_error(errc::forbidden, "these credentials order for tenant " + c.who.tenant + " only",
                                     "tenantId"));
  auto key = req.header("idempotency-key");
  if (!key.empty()) {
    if (key.size() > 128 || !std::all_of(key.begin(), key.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
      return error_response(bad("Idempotency-Key", "expected 1-128 printable ASCII characters without spaces"));
    sub->spec.idempotency_key = key;
  }
  auto out = b.engine->submit(actors::submit_command{std::move(sub->spec), {}, request_id{std::move(sub->request_id)}});
  if (!out) return error_response(out.error());
  // Read-your-writes: let the read model see the submission before answering.
  if (out->position) b.summaries->wait_for(out->position, std::chrono::seconds(2));
  std::string state = "Queued";
  if (out->duplicate) {
    if (auto s = b.summaries->get(out->request_id); s && *s) state = ev::to_string((*s)->state);
  }
  auto r = json_response(202, {{"id", out->request_id.str()}, {"state", state}});
  r.headers.emplace_back("Location", "/v1/requests/" + out->request_id.str());
  if (out->duplicate) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

http_response list_requests(const api_backend& b, const route_call& c) {
  projections::list_query q;
  for (auto& [k, v] : c.req.query) {
    if (k == "tenantId") {
      if (!is_valid_id(v)) return error_response(bad("tenantId", "expected a tenant id"));
      q.tenant_id = tenant_id{v};
    } else if (k == "state") {
      auto s = ev::parse_lifecycle(v);
      if (!s) return error_response(bad("state", "expected one of " + join_names(ev::lifecycle_names)));
      q.state = s;
    } else if (k == "limit") {
      if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
          std::stoi(v) > 500)
        return error_response(bad("limit", "expected an integer from 1 to 500"));
      q.limit = static_cast<std::size_t>(std::stoi(v));
    } else if (k == "cursor") {
      if (v.size() != 16 || v.find_first_not_of("0123456789abcdef") != std::string::npos)
        return error_response(bad("cursor", "expected the nextCursor of a previous page"));
      q.cursor = v;
    } else {
      return error_response(bad(k, "unknown query parameter; expected tenantId, state, limit, cursor"));
    }
  }
  // A tenant's caller lists its own requests, whatever the query says.
  if (c.who.tenant_scoped()) q.tenant_id = tenant_id{c.who.tenant};
  auto page = b.summaries->list(q);
  if (!page) return error_response(page.error());
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < page->items_json.size(); ++i) body += (i ? "," : "") + page->items_json[i];
  body +=
      "],\"nextCursor\":" + (page->next_cursor.empty() ? std::string("null") : "\"" + page->next_cursor + "\"") + "}";
  http_response r;
  r.body = std::move(body);
  return r;
}

http_response get_request(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  if (!is_valid_id(id)) return error_response(detail::no_request(id));
  auto s = b.summaries->get(request_id{id});
  if (!s) return error_response(s.error());
  if (!*s) return error_response(detail::no_request(id));
  http_response r;
  r.body = projections::render_request(**s);
  return r;
}

}  // namespace provisiond::gateway::handlers
