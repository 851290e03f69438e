#include "gateway/api.hpp"

#include <exception>

#include "gateway/detail/json_http.hpp"
#include "gateway/routes.hpp"

namespace provisiond::gateway {

namespace {

int status_of(errc c) {
  switch (c) {
    case errc::invalid_argument: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::too_large: return 413;
    case errc::unavailable: return 503;
    case errc::fenced: return 503;  // another instance owns it now
    case errc::unsupported: return 400;
    default: return 500;
  }
}

}  // namespace

http_response error_response(const error& e) {
  nlohmann::json err{{"code", e.code == errc::too_large ? "payload_too_large" : to_string(e.code)},
                     {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return detail::json_response(status_of(e.code), {{"error", err}});
}

http_response handle(const api_backend& backend, const http_request& req) {
  try {
    if (backend.forward)
      if (auto answered = backend.forward(req)) return std::move(*answered);
    auto answer = dispatch(backend, req);
    bool write = req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
    if (write && answer.status < 300 && backend.await_published && !backend.await_published()) {
      auto r = error_response(make_error(
          errc::unavailable, "recorded, but not yet on the changelog; retry (with the same Idempotency-Key)"));
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return answer;
  } catch (const std::exception& e) {
    return error_response(make_error(errc::internal, std::string("unexpected error: ") + e.what()));
  }
}

}  // namespace provisiond::gateway
