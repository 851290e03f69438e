// Who am I (GET /v1/whoami) and the API keys (/v1/api-keys): issued with
// their secret shown once, listed without it, revoked by id.
#include <nlohmann/json.hpp>

#include "auth/authenticator.hpp"
#include "common/json.hpp"
#include "common/clock.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
using detail::bad;
using detail::json_response;

namespace {

json key_json(const auth::api_key_info& k) {
  json j{{"id", k.id},
         {"name", k.name},
         {"role", std::string(auth::to_string(k.r))},
         {"access", k.read_only ? "read" : "write"},
         {"createdAt", format_time(k.created_at)},
         {"createdBy", k.created_by},
         {"lastUsedAt", k.last_used_at ? json(format_time(k.last_used_at)) : json(nullptr)},
         {"revokedAt", k.revoked_at ? json(format_time(k.revoked_at)) : json(nullptr)}};
  j["tenantId"] = k.tenant.empty() ? json(nullptr) : json(k.tenant);
  return j;
}

}  // namespace

http_response whoami(const api_backend&, const route_call& c) {
  json j{{"role", std::string(auth::to_string(c.who.r))},
         {"access", c.who.may_write() ? "write" : "read"},
         {"subject", c.who.subject}};
  j["tenantId"] = c.who.tenant.empty() ? json(nullptr) : json(c.who.tenant);
  return json_response(200, j);
}

std::optional<http_response> keys_wired(const api_backend& b, const route_call&) {
  if (b.auth) return std::nullopt;
  return error_response(make_error(errc::unavailable, "API keys are not available here"));
}

http_response list_api_keys(const api_backend& b, const route_call&) {
  json items = json::array();
  for (auto& k : b.auth->keys().list()) items.push_back(key_json(k));
  return json_response(200, {{"items", items}});
}

// POST /v1/api-keys {"name", "role", "tenantId"?, "access": "read"|"write"}
http_response create_api_key(const api_backend& b, const route_call& c) {
  auto body = detail::parse_object(c.req.body);
  if (!body) return error_response(body.error());
  const json& j = *body;
  for (auto& [k, v] : j.items())
    if (k != "name" && k != "role" && k != "tenantId" && k != "access")
      return error_response(bad(k, "unknown field; expected name, role, tenantId, access"));
  auto text = [&](const char* k) -> std::optional<std::string> {
    auto it = j.find(k);
    if (it == j.end()) return std::string{};
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto name = text("name"), role_name = text("role"), tenant = text("tenantId"), access_name = text("access");
  if (!name || name->empty() || name->size() > 128 || !is_valid_utf8(*name))
    return error_response(bad("name", "expected a name of 1 to 128 characters"));
  for (unsigned char ch : *name)
    if (ch < 0x20 || ch == 0x7f) return error_response(bad("name", "control characters are not allowed"));
  auto r = role_name ? auth::parse_role(*role_name) : std::nullopt;
  if (!r) return error_response(bad("role", "expected one of tenant, tenant-readonly, saga, admin"));
  if (!tenant) return error_response(bad("tenantId", "expected a tenant id"));
  if (!access_name || (!access_name->empty() && *access_name != "read" && *access_name != "write"))
    return error_response(bad("access", "expected read or write"));
  auto issued = b.auth->keys().issue(*name, *r, *tenant, *access_name == "read", c.who.subject);
  if (!issued) return error_response(issued.error());
  auto out = key_json(issued->info);
  out["key"] = issued->key;  // the only time it is shown
  auto resp = json_response(201, out);
  resp.headers.emplace_back("Location", "/v1/api-keys/" + issued->info.id);
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

http_response get_api_key(const api_backend& b, const route_call& c) {
  auto k = b.auth->keys().get(c.param("id"));
  if (!k) return error_response(make_error(errc::not_found, "no API key " + c.param("id")));
  return json_response(200, key_json(*k));
}

http_response revoke_api_key(const api_backend& b, const route_call& c) {
  if (auto st = b.auth->keys().revoke(c.param("id"), c.who.subject); !st) return error_response(st.error());
  auto k = b.auth->keys().get(c.param("id"));
  return json_response(200, key_json(*k));
}

}  // namespace provisiond::gateway::handlers
