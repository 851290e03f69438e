// Probes, metrics, system info and the simulation ledger.
#include "common/metrics.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using detail::json_response;

http_response healthz(const api_backend&, const route_call&) {
  return json_response(200, {{"status", "ok"}});
}

http_response readyz(const api_backend& b, const route_call&) {
  bool ready = !b.ready || b.ready();
  return json_response(ready ? 200 : 503, {{"status", ready ? "ok" : "unavailable"}});
}

http_response prometheus_metrics(const api_backend&, const route_call&) {
  http_response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics::registry::global().render();
  return r;
}

http_response system_info(const api_backend& b, const route_call&) {
  http_response r;
  r.body = b.system_info ? b.system_info() : "{}";
  return r;
}

http_response simulation_ledger(const api_backend& b, const route_call&) {
  if (!b.simulation_ledger) return error_response(make_error(errc::not_found, "no simulation provider"));
  auto body = b.simulation_ledger();
  if (!body) return error_response(body.error());
  http_response r;
  r.body = std::move(*body);
  return r;
}

}  // namespace provisiond::gateway::handlers
