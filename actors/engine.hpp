#pragma once
/// The actor engine behind a CAF-free facade: a registry actor that spawns
/// one request actor per request, each replaying its stream and driving the
/// 4-step pipeline. Callers (gateway, Kafka intake, tests) use this header
/// only; CAF stays inside actors/*.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/cluster.hpp"
#include "common/settings.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/journal.hpp"
#include "events/request_state.hpp"
#include "actors/request/request_logic.hpp"
#include "providers/provider.hpp"

namespace provisiond::actors {

class governance;
class cluster_directory;
class shared_capacity;

struct engine_options {
  std::shared_ptr<events::journal> journal;
  std::shared_ptr<clock> time;
  std::shared_ptr<timer_service> timers;
  std::shared_ptr<providers::provider_registry> providers;
  std::shared_ptr<id_source> ids;
  /// The registered clusters now (the cluster registry's snapshot).
  std::function<std::vector<cluster_config>()> clusters;
  /// Read side: every request holding capacity on a cluster (to rebuild its
  /// cluster actor).
  std::function<std::vector<events::request_state>(const cluster_id&)> cluster_holders;
  retry_policy retry;
  /// A provider call outstanding this long is given up as stuck: the step
  /// fails and the request rolls back.
  time_ms stuck_after_ms = 30 * 60 * 1000;
  int provider_threads = 16;
  int scheduler_threads = 0;  ///< 0: CAF's default (one per core)
  /// Quotas and approval rules; null: unlimited and ungated.
  std::shared_ptr<governance> rules;
  /// Read side (projections): one request, and all of a tenant's requests.
  /// Used to validate dependsOn and to rebuild a tenant supervisor at start.
  std::function<std::optional<events::request_state>(const request_id&)> lookup_request;
  std::function<std::vector<events::request_state>(const tenant_id&)> tenant_requests;
  /// Blocks until the read side has seen everything committed so far
  /// (called before validating dependsOn; never from an actor).
  std::function<void()> sync_read_side;
  /// At most this many requests per tenant in the working states.
  int max_in_flight_per_tenant = 5;
  /// A tenant supervisor with nothing waiting or in flight leaves memory
  /// after this long without a message (rebuilt from the read side).
  time_ms supervisor_idle_ms = 30'000;
  /// Circuit breaker and bulkhead per cluster.
  gate_config gate;
  /// shutdown(grace) as a hard limit: provider calls still running after
  /// `grace` are abandoned, not joined (the binary sets it and exits right
  /// after). Off, shutdown waits for them (in-process embedders and tests
  /// that reopen the same ledger or journal in the same process).
  bool abandon_calls_after_grace = false;
  /// Scale-out: the fencing token this instance holds for a tenant's
  /// partition now (a valid lease), or nullopt when another instance owns
  /// it. Every append carries the token, and nothing is appended and no
  /// provider is called for a tenant without one: the append answers
  /// errc::fenced and the actor stops. Null: one instance owns everything
  /// (token 0).
  std::function<std::optional<std::uint64_t>(const tenant_id&)> fencing;
  /// Scale-out: false while the tenant's partition is being handed over —
  /// calls already running finish and are recorded, no new one starts (the
  /// actor stops; the next owner runs the call). Null: always true.
  std::function<bool(const tenant_id&)> may_start_calls;
  /// Scale-out: capacity shared with the other instances (each cluster
  /// actor reserves and releases through it). Null: each cluster actor's
  /// own book decides.
  std::shared_ptr<shared_capacity> capacity;
};

/// A validated request to provision. `spec.idempotency_key` may be empty.
struct submit_command {
  events::request_submitted spec;
  /// Dedupe key of the command that carries it (e.g. "cmd/<commandId>" from
  /// Kafka). Empty: derived from tenant and Idempotency-Key, if any.
  std::string dedupe_key;
  /// The id the client chose; empty: the engine assigns one. An id that
  /// exists already is a conflict.
  provisiond::request_id request_id;
};

struct submit_outcome {
  provisiond::request_id request_id;
  bool duplicate = false;         ///< an earlier submission with the same Idempotency-Key
  std::uint64_t position = 0;     ///< journal position of request_submitted (0 if duplicate)
};

/// A tenant's admission state as its supervisor sees it.
struct tenant_usage {
  events::quota_amount used;  ///< reserved by requests not yet released
  std::size_t in_flight = 0;  ///< holding a working slot
  std::size_t waiting = 0;    ///< admitted to the quota, waiting for a slot or a dependency
  int max_in_flight = 0;
};

/// A cluster actor's view of its cluster.
struct cluster_usage {
  cluster_capacity used;     ///< reserved by requests that hold the cluster
  std::size_t requests = 0;  ///< how many hold it
  std::string breaker;       ///< closed | open | half-open
};

class engine {
 public:
  explicit engine(engine_options opts);
  /// Shuts down with a zero grace period if shutdown() was not called.
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Creates a request. Blocking; thread-safe; never call from a CAF actor.
  /// Same Idempotency-Key and body → the earlier request (duplicate = true);
  /// same key, different body → errc::conflict. dependsOn: unknown or
  /// foreign ids → invalid_argument; a dependency cycle → conflict naming it.
  result<submit_outcome> submit(submit_command cmd);

  /// Approves or rejects a request in PendingApproval; returns its new state.
  /// conflict (with the current state) if it is not pending; not_found.
  /// Concurrent decisions on one request: exactly one wins.
  result<std::string> approve(const request_id& id, std::string comment);
  result<std::string> reject(const request_id& id, std::string reason);

  /// A service lifecycle action: suspend, reactivate, deprovision or retry.
  /// Returns the state once the action is recorded (the provider work follows).
  /// conflict (with the current state) if it does not fit; not_found.
  /// `dedupe_key` (e.g. "cmd/<commandId>") makes a redelivered command a no-op.
  /// A non-empty `tenant_id` must be the request's own tenant, else
  /// invalid_argument naming tenantId (nothing is recorded).
  result<std::string> lifecycle(const request_id& id, events::lifecycle_action action,
                                const std::string& dedupe_key = {}, const tenant_id& tenant = {});

  /// Delivers the access details of a request waiting for manual input
  /// (AwaitingManualInput); it goes on to verify. conflict if it is not waiting.
  result<std::string> complete(const request_id& id, complete_manual details);

  /// The cluster actor's view of a cluster (capacity used, breaker).
  result<cluster_usage> usage_of_cluster(const cluster_id& id);

  /// The tenant supervisor's view of a tenant.
  result<tenant_usage> usage(const tenant_id& tenant);

  /// Spawns the actors of these requests (replay, then continue). Used at
  /// start-up for every unfinished request. Idempotent.
  void resume(const std::vector<request_id>& ids);

  /// Stops intake, waits up to `grace` for in-flight provider calls and
  /// persists their outcomes, then stops every actor. With
  /// `abandon_calls_after_grace`, `grace` is a hard limit: calls still
  /// running then are abandoned (their intents are settled when the request
  /// resumes, here or on another instance) and it returns false; the caller
  /// should then exit the process once its own state is flushed. Safe to
  /// call twice.
  bool shutdown(std::chrono::milliseconds grace);

  /// Stops the request actors and tenant supervisors of the tenants `which`
  /// selects (a partition moved to another instance): what they owe is
  /// answered errc::fenced, and they are rebuilt from the journal if the
  /// tenants come back. Asynchronous.
  void evict(std::function<bool(const tenant_id&)> which);

  /// Provider calls queued or running for the tenants `which` selects.
  std::size_t calls_in_flight(const std::function<bool(const tenant_id&)>& which) const;

  /// Request actors alive now (idle finished ones are passivated).
  std::size_t live_actors() const;

  /// Tenant supervisors alive now (idle ones are passivated).
  std::size_t live_supervisors() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Stable digest of a submission's body (everything but the idempotency key),
/// used to tell a replayed Idempotency-Key from a reused one.
std::string request_hash(const events::request_submitted& spec);

}  // namespace provisiond::actors
