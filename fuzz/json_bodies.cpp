// The json_bodies target: every JSON body parser of the API, the first
// input byte picking one. The parsers with a header of their own are
// called directly; those that live inside their handler (quota, approval
// rule, webhook, manual completion, approve/reject, rotate, deactivate) are
// reached through the route table against the fuzz backend, on a route
// whose object exists, so the whole body is read.
#include <array>
#include <string>
#include <variant>

#include "app/config.hpp"
#include "events/codec.hpp"
#include "auth/principal.hpp"
#include "fuzz/backend.hpp"
#include "fuzz/checks.hpp"
#include "fuzz/entries.hpp"
#include "gateway/cluster_body.hpp"
#include "gateway/commands.hpp"
#include "gateway/routes.hpp"

namespace provisiond::fuzz {

namespace {

// A decoded event must come back the same from its own encoding.
finding round_trip(const events::event& e, const std::string& where) {
  auto back = events::decode_payload(events::type_name(e), events::schema_version(e), events::encode_payload(e));
  if (!back) return where + ": its " + events::type_name(e) + " does not decode: " + back.error().message;
  if (!(*back == e)) return where + ": its " + events::type_name(e) + " changes through the codec";
  return std::nullopt;
}

finding submission(std::string_view body) {
  auto s = gateway::parse_submission(body);
  if (!s) return check_refusal(s.error(), "parse_submission");
  return round_trip(s->spec, "parse_submission");
}

finding cluster(std::string_view body, const std::string& path, bool require_capacity) {
  auto d = gateway::parse_cluster(std::string(body), path, require_capacity);
  if (!d) {
    if (auto f = check_refusal(d.error(), "parse_cluster")) return f;
    if (!path.empty() && d.error().field.rfind(path, 0) != 0)
      return "parse_cluster: field " + d.error().field + " is not under " + path;
    return std::nullopt;
  }
  auto conn = parse_json(d->cluster.connection, "connection");
  if (!conn || !conn->is_object()) return "parse_cluster: the kept connection is not a JSON object";
  for (auto& [k, v] : conn->items())
    if (gateway::is_secret_field(k)) return "parse_cluster: secret field " + k + " kept in the connection";
  for (auto& [k, v] : d->secrets)
    if (!gateway::is_secret_field(k)) return "parse_cluster: " + k + " split out as a secret";
  return round_trip(events::cluster_saved{d->cluster}, "parse_cluster");
}

finding plain_json(std::string_view body) {
  auto j = parse_json(body, "body");
  if (!j) return check_refusal(j.error(), "parse_json");
  (void)dump_json(*j);
  if (auto st = check_kept_value(*j, "metadata"); !st) return check_refusal(st.error(), "check_kept_value");
  return std::nullopt;
}

finding config_file(std::string_view body) {
  auto c = parse_config(std::string(body), default_config());
  if (!c) return check_refusal(c.error(), "parse_config");
  return std::nullopt;
}

struct route_body {
  const char* method;
  const char* path;  ///< "{cluster}" is replaced by the backend's first cluster
};

// Each route's object exists in every fuzz backend (backend.hpp).
constexpr std::array<route_body, 13> routes = {{
    {"PUT", "/v1/tenants/acme/quota"},
    {"POST", "/v1/approval-rules"},
    {"PUT", "/v1/approval-rules/rule-fuzz-1"},
    {"POST", "/v1/tenants/acme/webhooks"},
    {"PUT", "/v1/tenants/acme/webhooks/wh_fuzz"},
    {"POST", "/v1/tenants/acme/webhooks/wh_fuzz/rotate-secret"},
    {"POST", "/v1/tenants/acme/webhooks/wh_fuzz/deactivate"},
    {"POST", "/v1/requests/req-fuzz-1/complete"},
    {"POST", "/v1/requests/req-fuzz-1/approve"},
    {"POST", "/v1/requests/req-fuzz-1/reject"},
    {"POST", "/v1/requests"},
    {"POST", "/v1/clusters"},
    {"PUT", "/v1/clusters/{cluster}"},
}};

finding through_route(const route_body& r, std::string_view body) {
  auto& b = fuzz_backend::get();
  gateway::http_request req;
  req.method = r.method;
  req.path = r.path;
  if (auto at = req.path.find("wh_fuzz"); at != std::string::npos) req.path.replace(at, 7, b.webhook_id());
  if (auto at = req.path.find("{cluster}"); at != std::string::npos) req.path.replace(at, 9, b.cluster_id());
  req.target = req.path;
  req.headers["content-type"] = "application/json";
  req.body = std::string(body);
  const auto admin = auth::in_process_admin();  // every route reachable
  auto res = gateway::dispatch(b.api(), req, &admin);  // a throw escapes: a crash
  if (res.status < 300) b.note_write();
  return check_response(res, req.method + " " + r.path);
}

constexpr std::size_t direct_parsers = 6;

}  // namespace

finding json_body_input(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto pick = static_cast<unsigned char>(bytes[0]) % (direct_parsers + routes.size());
  const auto body = bytes.substr(1);
  switch (pick) {
    case 0: return submission(body);
    case 1: return cluster(body, "", true);
    case 2: return cluster(body, "clusters[0]", false);
    case 3: return plain_json(body);
    case 4: return config_file(body);
    case 5: return submission(body);  // the most used body gets two slots
    default: return through_route(routes[pick - direct_parsers], body);
  }
}

}  // namespace provisiond::fuzz
