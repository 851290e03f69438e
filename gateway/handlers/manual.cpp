// The manual provider's routes (work list, completion, one-time
// credentials) and a running service's live metrics from its provider.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/request/request_logic.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "events/catalog.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::bad;
using detail::json_response;

std::optional<http_response> secret_request(const api_backend& b, const route_call& c) {
  if (!b.secrets) return error_response(make_error(errc::not_found, "no secret store"));
  if (!is_valid_id(c.param("id"))) return error_response(detail::no_request(c.param("id")));
  return std::nullopt;
}

// GET /v1/manual-requests: requests waiting for a person to deliver access.
http_response manual_requests(const api_backend& b, const route_call&) {
  auto activating = b.summaries->in_state(ev::lifecycle::activating);
  if (!activating) return error_response(activating.error());
  json items = json::array();
  for (auto& s : *activating)
    if (actors::awaiting_input(s))
      if (auto one = parse_json(projections::render_request(s), "summary")) items.push_back(std::move(*one));
  return json_response(200, {{"items", items}});
}

// POST /v1/requests/{id}/complete: {host, username, password | privateKey, endpoints, note}.
http_response complete_request(const api_backend& b, const route_call& call) {
  const auto& req = call.req;
  const auto& id = call.param("id");
  auto j = detail::parse_object(req.body);
  if (!j) return error_response(j.error());
  static const std::vector<std::string> known = {"host", "username", "password", "privateKey", "endpoints", "note"};
  for (auto& [k, v] : j->items()) {
    (void)v;
    if (std::find(known.begin(), known.end(), k) == known.end())
      return error_response(bad(k, "unknown field; expected host, username, password or privateKey, endpoints, note"));
  }
  auto str = [&](const char* k, std::size_t max, bool required) -> result<std::string> {
    if (!j->contains(k)) {
      if (required) return bad(k, "required");
      return std::string{};
    }
    const auto& v = (*j)[k];
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > max)
      return bad(k, "expected a string of 1-" + std::to_string(max) + " characters");
    return v.get<std::string>();
  };
  actors::complete_manual c;
  auto host = str("host", 253, true);
  if (!host) return error_response(host.error());
  c.host = *host;
  auto user = str("username", 64, true);
  if (!user) return error_response(user.error());
  c.username = *user;
  auto note = str("note", 1000, false);
  if (!note) return error_response(note.error());
  c.note = *note;
  bool has_pw = j->contains("password"), has_key = j->contains("privateKey");
  if (has_pw == has_key) return error_response(bad("password", "expected exactly one of password or privateKey"));
  c.credential = has_pw ? "password" : "privateKey";
  auto secret = str(c.credential.c_str(), 16384, true);
  if (!secret) return error_response(secret.error());
  if (j->contains("endpoints")) {
    const auto& e = (*j)["endpoints"];
    if (!e.is_object()) return error_response(bad("endpoints", "expected an object of name → URL strings"));
    for (auto& [k, v] : e.items()) {
      if (!v.is_string()) return error_response(bad("endpoints." + k, "expected a string"));
      c.endpoints[k] = v.get<std::string>();
    }
  }
  // Refuse before touching the secret store: a wrong-state call must not
  // overwrite credentials delivered earlier.
  auto current = b.summaries->get(request_id{id});
  if (!current) return error_response(current.error());
  if (!*current) return error_response(detail::no_request(id));
  if (!actors::awaiting_input(**current))
    return error_response(make_error(
        errc::conflict,
        std::string("request is ") + ev::to_string((*current)->state) + ", not waiting for manual input", "state"));
  // Sealed before the event that says it was delivered.
  if (auto st =
          b.secrets->put(ev::request_secret_name(id), dump_json(json{{"kind", c.credential}, {"value", *secret}}));
      !st)
    return error_response(st.error());
  auto r = b.engine->complete(request_id{id}, std::move(c));
  if (!r) return error_response(r.error());
  return json_response(200, {{"id", id}, {"state", *r}});
}

// GET /v1/requests/{id}/credentials: for the request's own tenant (another
// tenant's caller never gets here: the route table answers it 404), the
// saga or an admin, with read-write credentials.
http_response request_credentials(const api_backend& b, const route_call& call) {
  const auto& id = call.param("id");
  auto current = b.summaries->get(request_id{id});
  if (!current) return error_response(current.error());
  if (!*current) return error_response(detail::no_request(id));
  auto sealed = b.secrets->get(ev::request_secret_name(id));
  if (!sealed) return error_response(sealed.error());
  if (!*sealed)
    return error_response(make_error(
        errc::not_found, "no credentials for request " + id + " (none were set, or they were delivered already)"));
  auto parsed_cred = parse_json(**sealed, "stored credential");
  json cred = parsed_cred && parsed_cred->is_object() ? std::move(*parsed_cred) : json::object();
  const auto& out = (*current)->outputs;
  auto field = [&](const char* k) { return out.count(k) ? json(out.at(k)) : json(nullptr); };
  auto host = out.count("host") ? field("host") : field("floatingIp");
  auto user = out.count("username") ? field("username") : json("root");
  auto reply = json_response(
      200, {{"id", id}, {"host", host}, {"username", user}, {cred.value("kind", "password"), cred.value("value", "")}});
  // Delivered once: shredded as it is handed out.
  if (auto st = b.secrets->erase(ev::request_secret_name(id)); !st) return error_response(st.error());
  return reply;
}

// GET /v1/requests/{id}/metrics: live figures from the provider.
http_response request_metrics(const api_backend& b, const route_call& call) {
  const auto& id = call.param("id");
  auto current = b.summaries->get(request_id{id});
  if (!current) return error_response(current.error());
  if (!*current) return error_response(detail::no_request(id));
  const auto& r = **current;
  if (r.state != ev::lifecycle::completed && r.state != ev::lifecycle::suspended)
    return error_response(make_error(
        errc::conflict,
        std::string("request is ") + ev::to_string(r.state) + ": metrics exist for a running service only", "state"));
  auto prov = b.providers ? b.providers->find(r.spec.provider) : nullptr;
  if (!prov) return error_response(make_error(errc::not_found, "no " + r.spec.provider + " provider"));
  auto m = prov->metrics(request_id{id}, cluster_id{r.cluster_id});
  if (!m) {
    auto e = m.error();
    json err{{"code", e.field.empty() ? to_string(e.code) : e.field}, {"message", e.message}};
    // The cloud refusing (policy) or the provider having none is not our failure.
    int code = e.field == "forbidden" ? 403 : e.code == errc::unsupported ? 501 : e.code == errc::not_found ? 404 : 502;
    return json_response(code, {{"error", err}});
  }
  http_response out;
  out.body = providers::to_json(*m);
  return out;
}

}  // namespace provisiond::gateway::handlers
