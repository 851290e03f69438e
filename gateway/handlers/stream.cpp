// The live event stream (Server-Sent Events).
#include <algorithm>
#include <string>

#include "common/ids.hpp"
#include "events/domain_events.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/event_stream.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using detail::bad;

namespace {

constexpr std::size_t max_types = 64;

// A global position as sent in `Last-Event-ID` / `lastEventId`.
result<std::uint64_t> position(const std::string& field, const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    return bad(field, "expected the id of the last event received (a global position: 0, 1, 2, ...)");
  return std::stoull(text);
}

result<stream_filter> filter_of(const http_request& req) {
  stream_filter f;
  for (auto& [k, v] : req.query) {
    if (k == "requestId") {
      if (!is_valid_id(v)) return bad(k, "expected a request id");
      f.request_id = v;
    } else if (k == "tenantId") {
      if (!is_valid_id(v)) return bad(k, "expected a tenant id");
      f.tenant_id = v;
    } else if (k == "type") {
      const auto& known = events::all_type_names();
      std::size_t i = 0;
      while (i <= v.size()) {
        auto j = std::min(v.find(',', i), v.size());
        auto name = v.substr(i, j - i);
        if (std::find(known.begin(), known.end(), name) == known.end())
          return bad(k, "unknown event type '" + name.substr(0, 64) +
                            "'; expected journal event types separated by commas (e.g. request_submitted,step_completed)");
        f.types.insert(name);
        if (f.types.size() > max_types) return bad(k, "expected at most 64 event types");
        i = j + 1;
      }
    } else if (k != "lastEventId") {
      return bad(k, "unknown query parameter; expected requestId, tenantId, type or lastEventId");
    }
  }
  return f;
}

}  // namespace

// GET /v1/events/stream[?requestId=&tenantId=&type=a,b&lastEventId=N]. The
// `Last-Event-ID` header (sent by EventSource when it reconnects) wins over
// the query parameter; without either, the stream starts at the journal's
// head (only what happens from now on).
http_response live_events(const api_backend& b, const route_call& c) {
  if (!b.journal) return error_response(make_error(errc::unavailable, "the live stream is not available here"));
  auto filter = filter_of(c.req);
  if (!filter) return error_response(filter.error());
  // A tenant's caller sees its own events only, whatever the query says.
  if (c.who.tenant_scoped()) filter->tenant_id = c.who.tenant;
  std::uint64_t after = b.journal->last_position();
  if (auto header = c.req.header("last-event-id"); !header.empty()) {
    auto p = position("Last-Event-ID", header);
    if (!p) return error_response(p.error());
    after = *p;
  } else if (auto it = c.req.query.find("lastEventId"); it != c.req.query.end()) {
    auto p = position("lastEventId", it->second);
    if (!p) return error_response(p.error());
    after = *p;
  }
  stream_source source;
  auto* journal = b.journal;
  source.read_all = [journal](std::uint64_t from, std::size_t max) { return journal->read_all(from, max); };
  source.history = b.history;
  source.last_position = [journal] { return journal->last_position(); };
  source.tenant_of = [summaries = b.summaries](const std::string& request) -> std::string {
    if (!summaries) return {};
    auto s = summaries->get(request_id{request});
    return s && *s ? (*s)->spec.tenant_id : std::string{};
  };
  http_response r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.emplace_back("X-Accel-Buffering", "no");  // proxies pass each event on at once
  // The reconnection delay EventSource uses after a drop, and the starting
  // position as the last event id: a reader that reconnects before any
  // event came resumes from here, not from a later "now".
  r.body = "retry: 2000\nid: " + std::to_string(after) + "\n\n";
  r.stream = std::make_shared<event_stream>(std::move(source), std::move(*filter), after, b.stream_limits,
                                            b.stream_clock ? b.stream_clock : make_system_clock());
  r.poll_ms = b.stream_poll_ms;
  r.slow_ms = b.stream_slow_ms;
  return r;
}

}  // namespace provisiond::gateway::handlers
