#pragma once
/// Invariants the targets share, each cheap: what an error or an HTTP answer
/// must look like whatever the input was.

#include <string>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/result.hpp"
#include "fuzz/entries.hpp"
#include "gateway/http_server.hpp"

namespace provisiond::fuzz {

/// A refused input is invalid_argument (or too_large) with a message, and
/// an invalid_argument names the field ("$" for the document itself).
inline finding check_refusal(const error& e, const std::string& where) {
  if (e.message.empty()) return where + ": an error without a message";
  if (e.code != errc::invalid_argument && e.code != errc::too_large)
    return where + ": refused with " + to_string(e.code) + " (" + e.message + "), not invalid_argument";
  if (e.code == errc::invalid_argument && e.field.empty())
    return where + ": invalid_argument without a field (" + e.message + ")";
  return std::nullopt;
}

/// An answer of the API: a real status; never a 500 (an internal error is
/// a bug, whatever the client sent; 501 unsupported and 502-504 are answers); a JSON body that parses; an error body
/// {"error": {code, message}}, and a 400 names the field.
inline finding check_response(const gateway::http_response& r, const std::string& where) {
  const auto at = where + " -> " + std::to_string(r.status);
  if (r.status < 200 || r.status > 599) return at + ": not a final status";
  if (r.status == 500) return at + ": " + r.body.substr(0, 300);
  if (r.content_type != "application/json" || r.stream) return std::nullopt;
  if (r.status == 204 && r.body.empty()) return std::nullopt;
  auto j = parse_json_lenient(r.body);
  if (j.is_discarded()) return at + ": body is not JSON: " + r.body.substr(0, 200);
  if (r.status < 400) return std::nullopt;
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object() || !j["error"].contains("code") ||
      !j["error"].contains("message"))
    return at + ": error body without error.code and error.message: " + r.body.substr(0, 200);
  if (r.status == 400 && (!j["error"].contains("field") || !j["error"]["field"].is_string() ||
                          j["error"]["field"].get<std::string>().empty()))
    return at + ": a 400 that names no field: " + r.body.substr(0, 200);
  return std::nullopt;
}

}  // namespace provisiond::fuzz
