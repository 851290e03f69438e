// Audit: a request's stored events, and its state as of one of them.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/request_state.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::bad;

namespace {

// The chain hashes as hex; null for an event written before the journal hashed.
json hex_or_null(const std::string& raw) { return raw.empty() ? json(nullptr) : json(ev::to_hex(raw)); }

}  // namespace

http_response request_events(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  if (!is_valid_id(id)) return error_response(detail::no_request(id));
  auto events = b.history(id);
  if (!events) return error_response(events.error());
  if (events->empty()) return error_response(detail::no_request(id));
  json arr = json::array();
  for (auto& e : *events) {
    auto parsed = parse_json(e.payload, "stored event");
    arr.push_back({{"seq", e.sequence},
                   {"eventId", e.event_id},
                   {"position", e.global_position},
                   {"type", e.type},
                   {"schemaVersion", e.schema_version},
                   {"time", format_time(e.time)},
                   {"data", parsed ? std::move(*parsed) : json(nullptr)},
                   {"hash", hex_or_null(e.hash)},
                   {"previousHash", hex_or_null(e.previous_hash)}});
  }
  return detail::json_response(200, arr);
}

// GET /v1/requests/{id}/state?at=SEQ: the stream folded up to and including
// sequence `at` (all of it without `at`).
http_response request_state_at(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  const auto& query = c.req.query;
  if (!is_valid_id(id)) return error_response(detail::no_request(id));
  auto it = query.find("at");
  std::uint64_t at = UINT64_MAX;
  for (auto& [k, v] : query)
    if (k != "at") return error_response(bad(k, "unknown query parameter; expected at"));
  if (it != query.end()) {
    if (it->second.empty() || it->second.size() > 12 ||
        it->second.find_first_not_of("0123456789") != std::string::npos || std::stoull(it->second) == 0)
      return error_response(bad("at", "expected an event sequence number (1, 2, ...)"));
    at = std::stoull(it->second);
  }
  auto events = b.history(id);
  if (!events) return error_response(events.error());
  if (events->empty()) return error_response(detail::no_request(id));
  if (at != UINT64_MAX && at > events->back().sequence)
    return error_response(bad("at", "the request has " + std::to_string(events->back().sequence) + " events"));
  ev::request_state s;
  s.id = id;
  for (auto& e : *events) {
    if (e.sequence > at) break;
    auto decoded = ev::decode(e);
    if (!decoded) return error_response(decoded.error());
    ev::apply_in_place(s, *decoded, e.time);
  }
  http_response r;
  r.body = projections::render_request(s);
  return r;
}

}  // namespace provisiond::gateway::handlers
