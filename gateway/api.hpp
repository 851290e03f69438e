#pragma once
/// The HTTP API's entry point and what it needs. No Beast and no CAF here:
/// the server hands requests in, the route table (routes.hpp) finds the
/// handler (handlers/), the engine and projections answer.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "common/result.hpp"
#include "events/envelope.hpp"
#include "events/secret_store.hpp"
#include "events/journal.hpp"
#include "gateway/event_stream.hpp"
#include "gateway/http_server.hpp"
#include "projections/request_summary.hpp"

namespace provisiond::webhooks {
class registry;
class delivery_service;
class address_guard;
}  // namespace provisiond::webhooks

namespace provisiond::auth {
class authenticator;
}  // namespace provisiond::auth

namespace provisiond::gateway {

/// What the API needs, wired by app/.
struct api_backend {
  /// Who is calling (auth/authenticator.hpp). Null only in-process (tests,
  /// tools): every call then acts as an admin. app/ always wires it.
  auth::authenticator* auth = nullptr;
  actors::engine* engine = nullptr;
  actors::governance* governance = nullptr;  ///< quotas and approval rules
  actors::cluster_directory* clusters = nullptr;
  providers::provider_registry* providers = nullptr;  ///< cluster test and validation, live metrics
  events::secret_store* secrets = nullptr;            ///< delivered credentials (manual complete)
  projections::request_summary_projection* summaries = nullptr;
  /// Tenant webhooks: endpoints, deliveries, the SSRF guard for their URLs;
  /// the overlap of a rotated secret unless the request names one.
  webhooks::registry* webhooks = nullptr;
  webhooks::delivery_service* deliveries = nullptr;
  const webhooks::address_guard* webhook_guard = nullptr;
  time_ms webhook_rotation_overlap_ms = 24 * 3600 * 1000;
  /// The stored events of one request (read side of the journal, for audits).
  std::function<result<std::vector<events::envelope>>(const std::string& request_id)> history;
  /// The journal's read side for the live stream (GET /v1/events/stream);
  /// null: 503. Its pieces are bounded by `stream_settings`; the server
  /// looks for new events every `stream_poll_ms` and drops a reader that
  /// leaves a piece unwritten for `stream_slow_ms`.
  events::journal* journal = nullptr;
  stream_settings stream_limits;
  int stream_poll_ms = 100;
  int stream_slow_ms = 5000;
  std::shared_ptr<clock> stream_clock;  ///< null: the system clock
  /// GET /v1/simulation/ledger body, or unset when no simulation provider runs.
  std::function<result<std::string>()> simulation_ledger;
  /// False while starting or stopping (/readyz).
  std::function<bool()> ready;
  /// GET /v1/system body (Kafka bootstrap, version, ...).
  std::function<std::string()> system_info;
  /// Scale-out: answers writes for tenants another instance owns
  /// (gateway/forwarding.hpp); null on a single instance.
  std::function<std::optional<http_response>(const http_request&)> forward;
  /// Scale-out: a successful write is answered once everything journaled
  /// so far is on the changelog (false: not within the deadline, 503 and
  /// retry — with the same Idempotency-Key it is a duplicate). Null: at once.
  std::function<bool()> await_published;
};

/// The tenant of a request ("" if unknown): the read model, else its first stored event.
std::string request_tenant(const api_backend& b, const std::string& id);

/// Authenticates `req` (api_backend::auth), then routes it through the
/// table, which authorizes it (gateway/routes.hpp). Thread-safe; never throws
/// (an exception from a handler is a 500 internal).
http_response handle(const api_backend& backend, const http_request& req);

/// {"error": {"code", "message", "field"?}} with the matching HTTP status.
http_response error_response(const error& e);

}  // namespace provisiond::gateway
