#pragma once
/// Helpers shared by the gateway's handlers.

#include <string>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/result.hpp"
#include "gateway/http_server.hpp"

namespace provisiond::gateway::detail {

inline http_response json_response(int status, const nlohmann::json& body) {
  http_response r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

inline http_response method_not_allowed(const std::string& allowed) {
  auto r = json_response(405, {{"error", {{"code", "method_not_allowed"}, {"message", "allowed: " + allowed}}}});
  r.headers.emplace_back("Allow", allowed);
  return r;
}

/// An invalid_argument naming `field`; an empty key (`{"": 1}`) is named
/// "" (quoted), so a field is never blank.
inline error bad(std::string field, std::string message) {
  if (field.empty()) field = "\"\"";
  return make_error(errc::invalid_argument, std::move(message), std::move(field));
}

/// 404 "no request <id>": an id that is malformed or names nothing.
inline error no_request(const std::string& id) {
  return make_error(errc::not_found, "no request " + id);
}

/// Parses a JSON object body, or says why not.
inline result<nlohmann::json> parse_object(const std::string& body) {
  auto j = parse_json(body, "request body");
  if (!j) return j.error();
  if (!j->is_object()) return bad("$", "expected a JSON object");
  return j;
}

}  // namespace provisiond::gateway::detail
