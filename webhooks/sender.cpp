#include "webhooks/sender.hpp"

#include <chrono>

#include "common/metrics.hpp"
#include "webhooks/signature.hpp"

namespace provisiond::webhooks {

namespace ev = provisiond::events;

namespace {
constexpr std::size_t kept_body_bytes = 1024;
}

sender::sender(std::shared_ptr<registry> endpoints, std::shared_ptr<address_guard> guard, time_ms timeout_ms)
    : endpoints_(std::move(endpoints)), guard_(std::move(guard)) {
  providers::http::client_options http;
  http.connect_timeout = std::chrono::milliseconds(timeout_ms);
  http.io_timeout = std::chrono::milliseconds(timeout_ms);
  http.total_timeout = std::chrono::milliseconds(timeout_ms);  // the whole attempt, however paced
  http.max_idle_per_host = 0;         // a fresh connection to the address checked for each attempt
  http.max_response_bytes = 1 << 20;  // more is an error; 1 KiB of it is kept
  http_ = std::make_unique<providers::http::client>(http);
}

attempt sender::send(const ev::webhook_endpoint& ep, const std::string& id, const std::string& body, time_ms now) {
  attempt a;
  a.at = now;
  a.timestamp_s = now / 1000;
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](attempt& out) -> attempt {
    out.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                         .count();
    metrics::registry::global()
        .get_histogram("provisiond_webhook_attempt_seconds", "Webhook delivery attempt latency")
        .observe(static_cast<double>(out.latency_ms) / 1000.0);
    metrics::registry::global()
        .get_counter("provisiond_webhook_attempts_total", "Webhook delivery attempts, by result",
                     {{"result", out.error.empty() ? "success" : "failure"}})
        .inc();
    return out;
  };
  auto dest = guard_->check(ep.url);
  if (!dest) {
    a.error = (dest.error().code == errc::retryable ? "dns: " : "blocked_address: ") + dest.error().message;
    return finish(a);
  }
  auto secrets = endpoints_->signing_secrets(ep.id, now);
  if (!secrets) {
    a.error = "no_secret: " + secrets.error().message;
    return finish(a);
  }
  auto signature = signature_header(*secrets, id, a.timestamp_s, body);
  if (!signature) {
    a.error = "no_secret: " + signature.error().message;
    return finish(a);
  }
  providers::http::request r;
  r.method = "POST";
  // The URL as the guard read it (scheme, host, port, path; no fragment),
  // so the client cannot read it otherwise.
  auto host = dest->host.find(':') != std::string::npos ? "[" + dest->host + "]" : dest->host;
  r.url = (dest->tls ? "https://" : "http://") + host + ":" + dest->port + dest->target;
  r.headers = {{"content-type", "application/json"},
               {"user-agent", "provisiond-webhooks/1"},
               {"webhook-id", id},
               {"webhook-timestamp", std::to_string(a.timestamp_s)},
               {"webhook-signature", *signature}};
  r.body = body;
  auto resp = http_->send(r, dest->address);
  if (!resp) {
    a.error = (resp.error().field.empty() ? std::string("error") : resp.error().field) + ": " + resp.error().message;
    return finish(a);
  }
  a.status_code = resp->status;
  a.response_body = resp->body.substr(0, kept_body_bytes);
  if (resp->status >= 200 && resp->status < 300) return finish(a);
  if (resp->status >= 300 && resp->status < 400)
    a.error = "redirect not followed: " + std::to_string(resp->status) + " to " + resp->header("location").substr(0, 200);
  else
    a.error = "status " + std::to_string(resp->status);
  return finish(a);
}

}  // namespace provisiond::webhooks
