// The embedded static files: the operator console and the OpenAPI document.
#include <string>

#include "gateway/assets.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

http_response openapi_document(const api_backend&, const route_call&) {
  auto doc = find_asset("openapi.json");
  if (!doc) return error_response(make_error(errc::not_found, "this build has no OpenAPI document"));
  http_response r;
  r.body = std::move(doc->data);
  return r;
}

std::optional<http_response> console_file(const http_request& req) {
  if (req.path != "/console" && !req.path.starts_with("/console/")) return std::nullopt;
  if (req.method != "GET") return detail::method_not_allowed("GET");
  if (req.path == "/console") {
    http_response r;
    r.status = 301;
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  std::string name = "console/" + (req.path == "/console/" ? std::string("index.html") : req.path.substr(9));
  auto file = find_asset(name);
  if (!file) return error_response(make_error(errc::not_found, "no console file " + req.path));
  http_response r;
  r.content_type = std::move(file->content_type);
  r.body = std::move(file->data);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Everything the console loads comes from here: no CDN, no inline script.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
  return r;
}

}  // namespace provisiond::gateway::handlers
