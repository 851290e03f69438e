// Routes for clusters (registry, capacity, connectivity test) and for the
// manual provider (pending list, complete, credentials).
#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/cluster/cluster_directory.hpp"
#include "common/json.hpp"
#include "actors/cluster/cluster_logic.hpp"
#include "common/ids.hpp"
#include "events/json_mapping.hpp"
#include "gateway/api.hpp"
#include "gateway/detail/json_http.hpp"
#include "providers/kubernetes/kubernetes_provider.hpp"
#include "providers/openstack/openstack_provider.hpp"

namespace provisiond::gateway {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::bad;
using detail::json_response;
using detail::method_not_allowed;

namespace {

// The cluster as the API shows it: the stored mapping (secrets already only
// by name, never by value), except createdAt as RFC 3339.
json cluster_json(const cluster_config& c) {
  auto j = ev::to_json(c);
  j["createdAt"] = format_time(c.created_at);
  return j;
}

// Adds what the cluster actor knows: capacity used and free, breaker state.
json with_usage(const api_backend& b, const cluster_config& c) {
  auto j = cluster_json(c);
  auto u = b.engine->usage_of_cluster(c.id);
  if (!u) return j;
  auto free = c.capacity;
  actors::operator-=(free, u->used);
  j["used"] = ev::to_json(u->used);
  j["available"] = ev::to_json(free);
  j["requests"] = u->requests;
  j["breaker"] = u->breaker;
  return j;
}

// The provider's own check of a connection, so a bad setting is a 400 now,
// not a failed request later. Secrets kept from before count as present.
status validate_connection(const cluster_definition& d, const std::vector<std::string>& kept_secrets) {
  auto parsed = parse_json(d.cluster.connection, "connection");
  json conn = parsed && parsed->is_object() ? std::move(*parsed) : json::object();
  for (auto& [k, v] : d.secrets) conn[k] = v;
  for (auto& k : kept_secrets)
    if (!conn.contains(k)) conn[k] = "(kept)";
  const auto& type = d.cluster.type;
  auto check = [&](auto parsed) -> status {
    if (!parsed) return parsed.error();
    return ok();
  };
  if (type == "openstack") return check(providers::openstack::parse_settings(dump_json(conn)));
  if (type == "openshift") return check(providers::kubernetes::parse_settings(dump_json(conn)));
  return ok();
}

http_response clusters_route(const api_backend& b, const http_request& req, const std::vector<std::string>& parts) {
  const auto& m = req.method;
  auto& dir = *b.clusters;
  if (parts.size() == 2) {
    if (m == "GET") {
      json items = json::array();
      for (auto& c : dir.list()) items.push_back(with_usage(b, c));
      return json_response(200, {{"items", items}});
    }
    if (m != "POST") return method_not_allowed("GET, POST");
    auto d = parse_cluster(req.body, "", true);
    if (!d) return error_response(d.error());
    if (auto st = validate_connection(*d, {}); !st) return error_response(st.error());
    auto c = dir.create(std::move(*d));
    if (!c) return error_response(c.error());
    auto r = json_response(201, with_usage(b, *c));
    r.headers.emplace_back("Location", "/v1/clusters/" + c->id);
    return r;
  }
  const auto& id = parts[2];
  auto existing = dir.get(id);
  if (!existing) return error_response(make_error(errc::not_found, "no cluster " + id));
  if (parts.size() == 3) {
    if (m == "GET") return json_response(200, with_usage(b, *existing));
    if (m == "PUT") {
      auto d = parse_cluster(req.body, "", true);
      if (!d) return error_response(d.error());
      if (auto st = validate_connection(*d, existing->secret_fields); !st) return error_response(st.error());
      auto c = dir.update(id, std::move(*d));
      if (!c) return error_response(c.error());
      return json_response(200, with_usage(b, *c));
    }
    if (m == "DELETE") {
      auto u = b.engine->usage_of_cluster(id);
      if (!u) return error_response(u.error());
      if (u->requests > 0)
        return error_response(make_error(errc::conflict,
                                         "cluster " + id + " still holds capacity for " + std::to_string(u->requests) +
                                             " requests; deprovision them or set provisioningEnabled false first"));
      if (auto st = dir.remove(id); !st) return error_response(st.error());
      http_response r;
      r.status = 204;
      return r;
    }
    return method_not_allowed("GET, PUT, DELETE");
  }
  if (parts.size() == 4 && parts[3] == "test") {
    if (m != "POST") return method_not_allowed("POST");
    auto prov = b.providers ? b.providers->find(existing->type) : nullptr;
    if (!prov)
      return json_response(200, {{"success", false}, {"latencyMs", 0},
                                 {"error", "no " + existing->type + " provider in this build"}});
    auto cfg = *existing;
    auto conn = dir.connection(id);  // with its secrets, for the provider only
    if (!conn) return error_response(conn.error());
    cfg.connection = *conn;
    auto started = std::chrono::steady_clock::now();
    status st = ok();
    try {
      st = prov->check(cfg);
    } catch (const std::exception& e) {
      st = make_error(errc::internal, std::string("the provider's check failed: ") + e.what());
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    json out{{"success", st.has_value()}, {"latencyMs", ms}};
    if (!st) out["error"] = st.error().message;
    return json_response(200, out);
  }
  return error_response(make_error(errc::not_found, "no route for " + req.method + " " + req.path));
}

// POST /v1/requests/{id}/complete: {host, username, password | privateKey, endpoints, note}.
http_response complete_request(const api_backend& b, const http_request& req, const std::string& id) {
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
  auto current = b.summaries->get(id);
  if (!current) return error_response(current.error());
  if (!*current) return error_response(make_error(errc::not_found, "no request " + id));
  if (!actors::awaiting_input(**current))
    return error_response(make_error(errc::conflict,
                                     std::string("request is ") + ev::to_string((*current)->state) +
                                         ", not waiting for manual input",
                                     "state"));
  // Sealed before the event that says it was delivered.
  if (auto st = b.secrets->put(ev::request_secret_name(id), dump_json(json{{"kind", c.credential}, {"value", *secret}})); !st)
    return error_response(st.error());
  auto r = b.engine->complete(id, std::move(c));
  if (!r) return error_response(r.error());
  return json_response(200, {{"id", id}, {"state", *r}});
}

// GET /v1/requests/{id}/credentials, for the request's own tenant (X-Tenant-Id,
// set by the authenticating gateway in front of provisiond).
http_response credentials(const api_backend& b, const http_request& req, const std::string& id) {
  auto current = b.summaries->get(id);
  if (!current) return error_response(current.error());
  if (!*current) return error_response(make_error(errc::not_found, "no request " + id));
  auto tenant = req.header("x-tenant-id");
  if (tenant.empty()) return error_response(bad("X-Tenant-Id", "required: the tenant that owns the request"));
  if (tenant != (*current)->spec.tenant_id)
    return json_response(403, {{"error", {{"code", "forbidden"}, {"message", "the request belongs to another tenant"}}}});
  auto sealed = b.secrets->get(ev::request_secret_name(id));
  if (!sealed) return error_response(sealed.error());
  if (!*sealed)
    return error_response(make_error(errc::not_found, "no credentials for request " + id +
                                                          " (none were set, or they were delivered already)"));
  auto parsed_cred = parse_json(**sealed, "stored credential");
  json cred = parsed_cred && parsed_cred->is_object() ? std::move(*parsed_cred) : json::object();
  const auto& out = (*current)->outputs;
  auto field = [&](const char* k) { return out.count(k) ? json(out.at(k)) : json(nullptr); };
  auto host = out.count("host") ? field("host") : field("floatingIp");
  auto user = out.count("username") ? field("username") : json("root");
  auto reply = json_response(200, {{"id", id},
                                   {"host", host},
                                   {"username", user},
                                   {cred.value("kind", "password"), cred.value("value", "")}});
  // Delivered once: shredded as it is handed out.
  if (auto st = b.secrets->erase(ev::request_secret_name(id)); !st) return error_response(st.error());
  return reply;
}

// GET /v1/requests/{id}/metrics: live figures from the provider.
http_response live_metrics(const api_backend& b, const std::string& id) {
  auto current = b.summaries->get(id);
  if (!current) return error_response(current.error());
  if (!*current) return error_response(make_error(errc::not_found, "no request " + id));
  const auto& r = **current;
  if (r.state != ev::lifecycle::completed && r.state != ev::lifecycle::suspended)
    return error_response(make_error(errc::conflict, std::string("request is ") + ev::to_string(r.state) +
                                                         ": metrics exist for a running service only",
                                     "state"));
  auto prov = b.providers ? b.providers->find(r.spec.provider) : nullptr;
  if (!prov) return error_response(make_error(errc::not_found, "no " + r.spec.provider + " provider"));
  auto m = prov->metrics(id, r.cluster_id);
  if (!m) {
    auto e = m.error();
    json err{{"code", e.field.empty() ? to_string(e.code) : e.field}, {"message", e.message}};
    // The cloud refusing (policy) or the provider having none is not our failure.
    int code = e.field == "forbidden" ? 403 : e.code == errc::unsupported ? 501 : e.code == errc::not_found ? 404 : 502;
    return json_response(code, {{"error", err}});
  }
  http_response out;
  out.body = *m;
  return out;
}

}  // namespace

std::optional<http_response> cluster_route(const api_backend& b, const http_request& req,
                                           const std::vector<std::string>& parts) {
  if (parts.size() < 2 || parts[0] != "v1") return std::nullopt;
  if (parts[1] == "clusters" && parts.size() <= 4) {
    if (!b.clusters) return error_response(make_error(errc::not_found, "no cluster registry"));
    return clusters_route(b, req, parts);
  }
  if (parts[1] == "manual-requests" && parts.size() == 2) {
    if (req.method != "GET") return method_not_allowed("GET");
    auto activating = b.summaries->in_state(ev::lifecycle::activating);
    if (!activating) return error_response(activating.error());
    json items = json::array();
    for (auto& s : *activating)
      if (actors::awaiting_input(s)) if (auto one = parse_json(projections::render_request(s), "summary")) items.push_back(std::move(*one));
    return json_response(200, {{"items", items}});
  }
  if (parts[1] == "requests" && parts.size() == 4 && parts[3] == "metrics") {
    if (req.method != "GET") return method_not_allowed("GET");
    return live_metrics(b, parts[2]);
  }
  if (parts[1] == "requests" && parts.size() == 4 && (parts[3] == "complete" || parts[3] == "credentials")) {
    if (!b.secrets) return error_response(make_error(errc::not_found, "no secret store"));
    if (!is_valid_id(parts[2])) return error_response(make_error(errc::not_found, "no request " + parts[2]));
    if (parts[3] == "complete") {
      if (req.method != "POST") return method_not_allowed("POST");
      return complete_request(b, req, parts[2]);
    }
    if (req.method != "GET") return method_not_allowed("GET");
    return credentials(b, req, parts[2]);
  }
  return std::nullopt;
}

}  // namespace provisiond::gateway
