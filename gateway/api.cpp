#include "gateway/api.hpp"

#include "auth/authenticator.hpp"
#include "common/json.hpp"

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
    case errc::unauthenticated: return 401;
    case errc::forbidden: return 403;
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

std::string request_tenant(const api_backend& b, const std::string& id) {
  if (b.summaries)
    if (auto s = b.summaries->get(request_id{id}); s && *s) return (*s)->spec.tenant_id;
  // The read model may trail the journal by a moment: the request's first
  // event (request_submitted) names its tenant exactly.
  if (b.history)
    if (auto events = b.history(id); events && !events->empty()) {
      auto j = parse_json_lenient(events->front().payload);
      if (j.is_object() && j.contains("tenantId") && j["tenantId"].is_string()) return j["tenantId"].get<std::string>();
    }
  return {};
}

http_response handle(const api_backend& backend, const http_request& req) {
  try {
    std::optional<auth::principal> who;
    if (backend.auth) {
      auto found = backend.auth->authenticate(req.header("authorization"), req.peer_subject);
      if (!found.who && !found.refusal.empty() &&
          !needs_no_credentials(req, backend.auth->config().public_metrics)) {
        auth::audit_denied(req.method, req.path, 401, found.refusal, "");
        auto r = error_response(make_error(errc::unauthenticated, found.message, "Authorization"));
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"provisiond\", error=\"invalid_token\"");
        return r;
      }
      who = std::move(found.who);
    } else {
      who = auth::in_process_admin();
    }
    const route* answered = nullptr;
    auto answer = dispatch(backend, req, who ? &*who : nullptr, &answered);
    if (answered && answered->needs == access::admin_write && answer.status < 300)
      auth::audit_admin_change(req.method, req.path, answer.status, who ? who->subject : "");
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
