#pragma once
/// Webhook deliveries, driven by the journal. A projection walks the journal
/// in global order, folds the `webhooks` stream as it goes (so "subscribed"
/// means subscribed when the event happened) and turns each request event
/// into its CloudEvents — one per lifecycle topic it is on
/// (`provisioning.completed`, ...), plus one under its journal type — and
/// each that an endpoint of the request's tenant subscribes to into one
/// delivery record, written atomically with its checkpoint. The delivery's
/// id is derived from (endpoint, event, type), so a crash, a restart, a
/// replay or another instance never makes a second id for the same event.
///
/// Dispatch: worker threads of their own (never CAF's, never the journal's)
/// take due deliveries, at most `per_endpoint` at once per endpoint and
/// `threads` overall, so a slow endpoint holds only its own share. Per
/// endpoint, a request's deliveries go in event order: a later one waits
/// until the earlier succeeded or was given up. Each attempt re-checks the
/// URL against the SSRF guard and connects to the address it approved;
/// POST, Standard Webhooks headers, 10 s timeout, 2xx = success, redirects
/// are not followed. After the first attempt, retries at `retry_delays_ms`
/// (5 s, 30 s, 5 min) on the injected clock, then the delivery failed;
/// `deactivate_after` failed deliveries in a row switch the endpoint off
/// (registry::deactivate). Deliveries of a disabled endpoint wait; those
/// of a deleted one are dropped from the queue.
///
/// A delivery that ends (succeeded, or failed after its retries) is recorded
/// as a `webhook_delivery_settled` event in the tenant's stream
/// `webhook-deliveries-<tenant>`, so the journal holds every outcome.
///
/// Scale-out: every instance keeps the records (its journal holds every
/// partition's events); only the instance that owns the tenant's partition
/// (`owns`) attempts them, and its settlements reach the others on the
/// changelog (with the partition's fencing token): they fold them, so the
/// next owner after a failover sends only what was not settled, under the
/// same id.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/journal.hpp"
#include "projections/view_store.hpp"
#include "webhooks/address_guard.hpp"
#include "webhooks/registry.hpp"

namespace provisiond::webhooks {

/// One attempt: when, the `webhook-timestamp` sent, code, latency, error, body (≤ 1 KiB).
using attempt = events::webhook_attempt;

struct delivery {
  std::string id;  ///< `webhook-id`: "msg_" + hex of SHA-256(endpoint, event)
  std::string webhook_id;
  std::string tenant_id;
  std::string request_id;
  std::string event_id;
  std::string event_type;       ///< the CloudEvent's `type`: "provisioning.completed", or a journal type
  std::uint64_t position = 0;  ///< the event's global position here × 4 + its index among the event's CloudEvents
  std::string status;          ///< "pending" | "succeeded" | "failed"
  time_ms created_at = 0;
  time_ms next_attempt_at = 0;
  std::vector<attempt> attempts;
  std::string body;  ///< the CloudEvent sent, the same bytes on every attempt
};

struct delivery_options {
  std::vector<time_ms> retry_delays_ms = {5'000, 30'000, 300'000};
  int deactivate_after = 5;  ///< failed deliveries in a row
  int threads = 8;           ///< attempts in flight overall
  int per_endpoint = 2;      ///< attempts in flight per endpoint
  time_ms timeout_ms = 10'000;
  std::string source = "provisiond";  ///< CloudEvents `source`
  /// Scale-out: true when this instance delivers for the tenant. Unset: all.
  std::function<bool(const std::string& tenant)> owns;
  /// Scale-out: the fencing token of the tenant's partition while owned
  /// here; settlements then go to the changelog. Unset: token 0, local only.
  std::function<std::optional<std::uint64_t>(const std::string& tenant)> fencing;
  /// Switches an endpoint off after failed deliveries. Unset:
  /// registry::deactivate here (scale-out: it goes to the admin writer).
  std::function<status(const events::webhook_endpoint&, const std::string& reason, int failures)> deactivate;
};

/// One page of an endpoint's deliveries, newest first.
struct delivery_page {
  std::vector<delivery> items;
  std::string next_cursor;  ///< "" at the end
};

class delivery_service {
 public:
  delivery_service(std::shared_ptr<events::journal> journal, std::shared_ptr<projections::view_store> store,
                   std::shared_ptr<registry> endpoints, std::shared_ptr<address_guard> guard,
                   std::shared_ptr<clock> time, delivery_options opts);
  ~delivery_service();
  delivery_service(const delivery_service&) = delete;
  delivery_service& operator=(const delivery_service&) = delete;

  /// Projects the journal up to its end and loads the pending deliveries.
  status catch_up();
  /// Follows the journal and starts the workers.
  void start();
  /// Stops the workers after their attempts in flight.
  void stop();

  /// `status`: "" for all, else pending / succeeded / failed.
  result<delivery_page> list(const std::string& webhook_id, const std::string& status, const std::string& cursor,
                             std::size_t limit) const;
  result<std::optional<delivery>> get(const std::string& delivery_id) const;
  /// Queues the delivery again (same id, attempts kept; one attempt plus the
  /// retries). conflict while an attempt is in flight.
  result<delivery> redeliver(const std::string& webhook_id, const std::string& delivery_id);
  /// Sends a signed `webhook.test` event now and returns the attempt.
  result<attempt> test(const std::string& webhook_id);
  /// An endpoint changed (re-enabled, say): look at its queue again.
  void wake();

  /// The journal position folded so far.
  std::uint64_t checkpoint() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The id of the delivery of event `event_id` as `type` (a journal event
/// is on one or two lifecycle topics, and is itself a journal type) to
/// endpoint `webhook_id`: "msg_" + hex of the first 16 bytes of
/// SHA-256(webhook_id "\n" event_id "\n" type).
std::string delivery_id_for(const std::string& webhook_id, const std::string& event_id, const std::string& type);

/// The API view: {id, webhookId, eventId, eventType, requestId, status,
/// createdAt, nextAttemptAt (null unless pending), attempts: [{at, timestamp,
/// statusCode, latencyMs, error, responseBody}]} (times RFC 3339).
std::string delivery_json(const delivery& d);
std::string attempt_json(const attempt& a);

}  // namespace provisiond::webhooks
