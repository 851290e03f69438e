#include "gateway/api.hpp"
#include "common/json.hpp"

#include <nlohmann/json.hpp>

#include "actors/governance/governance.hpp"
#include "common/ids.hpp"
#include "common/metrics.hpp"
#include "events/catalog.hpp"
#include "events/codec.hpp"
#include "events/request_state.hpp"
#include "gateway/detail/json_http.hpp"

namespace provisiond::gateway {

using nlohmann::json;
namespace ev = provisiond::events;

using detail::bad;
using detail::json_response;
using detail::method_not_allowed;

namespace {

int status_of(errc c) {
  switch (c) {
    case errc::invalid_argument: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::too_large: return 413;
    case errc::unavailable: return 503;
    case errc::unsupported: return 400;
    default: return 500;
  }
}

result<std::string> required_string(const json& j, const char* field, std::size_t max_len) {
  if (!j.contains(field)) return bad(field, std::string(field) + " is required");
  const auto& v = j.at(field);
  if (!v.is_string()) return bad(field, std::string("expected a string for ") + field);
  auto s = v.get<std::string>();
  if (s.empty() || s.size() > max_len)
    return bad(field, std::string("expected 1-") + std::to_string(max_len) + " characters for " + field);
  return s;
}

result<int> int_field(const json& j, const std::string& path, const char* field, int lo, int hi) {
  auto name = path + "." + field;
  if (!j.contains(field)) return bad(name, name + " is required");
  const auto& v = j.at(field);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    return bad(name, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v.get<long long>());
}

}  // namespace

http_response error_response(const error& e) {
  json err{{"code", e.code == errc::too_large ? "payload_too_large" : to_string(e.code)}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return json_response(status_of(e.code), {{"error", err}});
}

result<ev::request_submitted> parse_submission(const std::string& body, std::string* id) {
  auto parsed = parse_json(body, "request body");
  if (!parsed) return parsed.error();
  return submission_from_json(*parsed, id);
}

result<ev::request_submitted> submission_from_json(const json& j, std::string* id, const char* extra_known_a,
                                                   const char* extra_known_b) {
  if (!j.is_object()) return bad("$", "expected a JSON object");
  static const std::vector<std::string> known = {"id",       "tenantId",  "orderId",  "type",     "region",
                                                 "provider", "resources", "metadata", "dependsOn"};
  for (auto& [k, v] : j.items()) {
    (void)v;
    if ((extra_known_a && k == extra_known_a) || (extra_known_b && k == extra_known_b)) continue;
    if (std::find(known.begin(), known.end(), k) == known.end())
      return bad(k, "unknown field " + k + "; expected one of " + join_names(known));
  }
  ev::request_submitted s;
  if (j.contains("id")) {
    if (!j["id"].is_string() || !is_valid_id(j["id"].get<std::string>()))
      return bad("id", "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (or no id: "
                       "one is assigned)");
    if (id) *id = j["id"].get<std::string>();
  }
  auto tenant = required_string(j, "tenantId", 64);
  if (!tenant) return tenant.error();
  if (!is_valid_id(*tenant))
    return bad("tenantId", "expected letters, digits, '.', '_' or '-', starting with a letter or digit");
  s.tenant_id = *tenant;
  auto order = required_string(j, "orderId", 128);
  if (!order) return order.error();
  if (!is_valid_order_id(*order))
    return bad("orderId", "expected 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
  s.order_id = *order;
  auto type = required_string(j, "type", 64);
  if (!type) return type.error();
  if (!is_one_of(ev::request_types, *type)) return bad("type", "expected one of " + join_names(ev::request_types));
  s.type = *type;
  auto region = required_string(j, "region", 64);
  if (!region) return region.error();
  if (!is_valid_id(*region))
    return bad("region", "expected letters, digits, '.', '_' or '-', starting with a letter or digit");
  s.region = *region;
  s.provider = "simulation";
  if (j.contains("provider")) {
    auto p = required_string(j, "provider", 32);
    if (!p) return p.error();
    if (!is_one_of(ev::provider_types, *p))
      return bad("provider", "expected one of " + join_names(ev::provider_types));
    s.provider = *p;
  }
  if (!j.contains("resources")) return bad("resources", "resources is required ({cpu, memoryGb, storageGb})");
  const auto& r = j.at("resources");
  if (!r.is_object()) return bad("resources", "expected an object {cpu, memoryGb, storageGb}");
  for (auto& [k, v] : r.items()) {
    (void)v;
    if (k != "cpu" && k != "memoryGb" && k != "storageGb")
      return bad("resources." + k, "unknown field; expected cpu, memoryGb, storageGb");
  }
  auto cpu = int_field(r, "resources", "cpu", 1, 4096);
  if (!cpu) return cpu.error();
  auto mem = int_field(r, "resources", "memoryGb", 1, 65536);
  if (!mem) return mem.error();
  auto disk = int_field(r, "resources", "storageGb", 0, 1'000'000);
  if (!disk) return disk.error();
  s.resources = {*cpu, *mem, *disk};
  if (j.contains("metadata")) {
    const auto& m = j.at("metadata");
    if (!m.is_object()) return bad("metadata", "expected an object of string values");
    if (m.size() > 64) return bad("metadata", "expected at most 64 entries");
    for (auto& [k, v] : m.items()) {
      if (!v.is_string()) return bad("metadata." + k, "expected a string value");
      if (k.empty() || k.size() > 128 || v.get<std::string>().size() > 1024)
        return bad("metadata." + k, "expected a key of 1-128 and a value of at most 1024 characters");
      s.metadata[k] = v.get<std::string>();
    }
  }
  if (j.contains("dependsOn")) {
    const auto& d = j.at("dependsOn");
    if (!d.is_array()) return bad("dependsOn", "expected an array of request ids");
    for (auto& x : d) {
      if (!x.is_string() || !is_valid_id(x.get<std::string>()))
        return bad("dependsOn", "expected an array of request ids");
      s.depends_on.push_back(x.get<std::string>());
    }
  }
  return s;
}

namespace {

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

http_response create_request(const api_backend& b, const http_request& req) {
  // Lenient on purpose: curl -d sends x-www-form-urlencoded; only clearly
  // non-JSON media types are refused.
  auto ctype = req.header("content-type");
  if (ctype.starts_with("multipart/") || ctype.find("xml") != std::string::npos)
    return error_response(bad("Content-Type", "expected application/json"));
  std::string chosen_id;
  auto spec = parse_submission(req.body, &chosen_id);
  if (!spec) return error_response(spec.error());
  auto key = req.header("idempotency-key");
  if (!key.empty()) {
    if (key.size() > 128 || !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
      return error_response(bad("Idempotency-Key", "expected 1-128 printable ASCII characters without spaces"));
    spec->idempotency_key = key;
  }
  auto out = b.engine->submit(actors::submit_command{std::move(*spec), {}, std::move(chosen_id)});
  if (!out) return error_response(out.error());
  // Read-your-writes: let the read model see the submission before answering.
  if (out->position) b.summaries->wait_for(out->position, std::chrono::seconds(2));
  std::string state = "Queued";
  if (out->duplicate) {
    if (auto s = b.summaries->get(out->request_id); s && *s) state = ev::to_string((*s)->state);
  }
  auto r = json_response(202, {{"id", out->request_id}, {"state", state}});
  r.headers.emplace_back("Location", "/v1/requests/" + out->request_id);
  if (out->duplicate) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

http_response get_request(const api_backend& b, const std::string& id) {
  if (!is_valid_id(id)) return error_response(make_error(errc::not_found, "no request " + id));
  auto s = b.summaries->get(id);
  if (!s) return error_response(s.error());
  if (!*s) return error_response(make_error(errc::not_found, "no request " + id));
  http_response r;
  r.body = projections::render_request(**s);
  return r;
}

http_response list_requests(const api_backend& b, const http_request& req) {
  projections::list_query q;
  for (auto& [k, v] : req.query) {
    if (k == "tenantId") {
      if (!is_valid_id(v)) return error_response(bad("tenantId", "expected a tenant id"));
      q.tenant_id = v;
    } else if (k == "state") {
      auto s = ev::parse_lifecycle(v);
      if (!s)
        return error_response(bad("state", "expected one of " + join_names(ev::lifecycle_names)));
      q.state = s;
    } else if (k == "limit") {
      if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(v) < 1 || std::stoi(v) > 500)
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
  auto page = b.summaries->list(q);
  if (!page) return error_response(page.error());
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < page->items_json.size(); ++i) body += (i ? "," : "") + page->items_json[i];
  body += "],\"nextCursor\":" + (page->next_cursor.empty() ? std::string("null") : "\"" + page->next_cursor + "\"") + "}";
  http_response r;
  r.body = std::move(body);
  return r;
}

http_response request_events(const api_backend& b, const std::string& id) {
  if (!is_valid_id(id)) return error_response(make_error(errc::not_found, "no request " + id));
  auto events = b.history(id);
  if (!events) return error_response(events.error());
  if (events->empty()) return error_response(make_error(errc::not_found, "no request " + id));
  json arr = json::array();
  for (auto& e : *events) {
    auto parsed = parse_json(e.payload, "stored event");
    arr.push_back({{"seq", e.sequence},
                   {"eventId", e.event_id},
                   {"position", e.global_position},
                   {"type", e.type},
                   {"schemaVersion", e.schema_version},
                   {"time", format_time(e.time)},
                   {"data", parsed ? std::move(*parsed) : json(nullptr)}});
  }
  return json_response(200, arr);
}

// The request's state as of one of its events (audit replay): the stream
// folded up to and including sequence `at`.
http_response request_state_at(const api_backend& b, const http_request& req, const std::string& id) {
  if (!is_valid_id(id)) return error_response(make_error(errc::not_found, "no request " + id));
  auto it = req.query.find("at");
  std::uint64_t at = UINT64_MAX;
  for (auto& [k, v] : req.query)
    if (k != "at") return error_response(bad(k, "unknown query parameter; expected at"));
  if (it != req.query.end()) {
    if (it->second.empty() || it->second.size() > 12 || it->second.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(it->second) == 0)
      return error_response(bad("at", "expected an event sequence number (1, 2, ...)"));
    at = std::stoull(it->second);
  }
  auto events = b.history(id);
  if (!events) return error_response(events.error());
  if (events->empty()) return error_response(make_error(errc::not_found, "no request " + id));
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

http_response route(const api_backend& b, const http_request& req) {
  auto parts = split_path(req.path);
  const auto& m = req.method;
  if (auto r = governance_route(b, req, parts)) return std::move(*r);
  if (auto r = cluster_route(b, req, parts)) return std::move(*r);
  if (parts.size() == 1 && (parts[0] == "healthz" || parts[0] == "readyz")) {
    if (m != "GET") return method_not_allowed("GET");
    bool ready = parts[0] == "healthz" || !b.ready || b.ready();
    return json_response(ready ? 200 : 503, {{"status", ready ? "ok" : "unavailable"}});
  }
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "requests") {
    if (parts.size() == 2) {
      if (m == "POST") return create_request(b, req);
      if (m == "GET") return list_requests(b, req);
      return method_not_allowed("GET, POST");
    }
    if (parts.size() == 3) {
      if (m != "GET") return method_not_allowed("GET");
      return get_request(b, parts[2]);
    }
    if (parts.size() == 4 && parts[3] == "events") {
      if (m != "GET") return method_not_allowed("GET");
      return request_events(b, parts[2]);
    }
    if (parts.size() == 4 && is_one_of(ev::lifecycle_actions, parts[3])) {
      if (m != "POST") return method_not_allowed("POST");
      if (!is_valid_id(parts[2])) return error_response(make_error(errc::not_found, "no request " + parts[2]));
      auto r = b.engine->lifecycle(parts[2], parts[3]);
      if (!r) return error_response(r.error());
      return json_response(200, {{"id", parts[2]}, {"state", *r}});
    }
    if (parts.size() == 4 && parts[3] == "state") {
      if (m != "GET") return method_not_allowed("GET");
      return request_state_at(b, req, parts[2]);
    }
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (m != "GET") return method_not_allowed("GET");
    http_response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::registry::global().render();
    return r;
  }
  if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "system") {
    if (m != "GET") return method_not_allowed("GET");
    http_response r;
    r.body = b.system_info ? b.system_info() : "{}";
    return r;
  }
  if (parts.size() == 3 && parts[0] == "v1" && parts[1] == "simulation" && parts[2] == "ledger") {
    if (m != "GET") return method_not_allowed("GET");
    if (!b.simulation_ledger) return error_response(make_error(errc::not_found, "no simulation provider"));
    auto body = b.simulation_ledger();
    if (!body) return error_response(body.error());
    http_response r;
    r.body = std::move(*body);
    return r;
  }
  return error_response(make_error(errc::not_found, "no route for " + req.method + " " + req.path));
}

}  // namespace

http_response handle(const api_backend& backend, const http_request& req) {
  try {
    return route(backend, req);
  } catch (const std::exception& e) {
    return error_response(make_error(errc::internal, std::string("unexpected error: ") + e.what()));
  }
}

}  // namespace provisiond::gateway
