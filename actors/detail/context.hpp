#pragma once
/// What every actor of one engine shares: the options, the provider I/O pool,
/// the gate per cluster, the stuck watchdog, the published cluster actors and
/// a few counters. Created by the engine before any actor and destroyed after
/// the last one, so actors hold a plain pointer.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/detail/io_pool.hpp"
#include "actors/detail/provider_gate.hpp"
#include "actors/detail/watchdog.hpp"
#include "actors/engine.hpp"

namespace provisiond::actors::detail {

struct context {
  engine_options opts;
  io_pool pool;
  stuck_watchdog watchdog;
  std::atomic<bool> stopping{false};
  std::atomic<int> appends_in_flight{0};
  std::atomic<std::size_t> live{0};              ///< request actors in memory
  std::atomic<std::size_t> live_supervisors{0};  ///< tenant supervisors in memory

  explicit context(engine_options o);
  ~context();
  time_ms now() const { return opts.time->now(); }
  /// The fencing token for a tenant's appends and provider calls; nullopt
  /// when this instance does not own the tenant now (engine_options::fencing).
  std::optional<std::uint64_t> token_for(const std::string& tenant) const {
    if (!opts.fencing) return std::uint64_t{0};
    return opts.fencing(tenant_id{tenant});
  }
  /// Counts a write or provider call refused for want of a valid lease
  /// (`provisiond_fencing_refusals_total{where="lease"}`).
  static void count_refusal();
  /// errc::fenced for a tenant this instance does not own.
  static error not_owner(const std::string& tenant) {
    return make_error(errc::fenced, "tenant " + tenant + " is owned by another instance now", "tenantId");
  }

  /// Provider calls queued or running, per tenant (a partition's handover
  /// waits for its tenants' calls). Thread-safe.
  void call_started(const std::string& tenant);
  void call_ended(const std::string& tenant);
  std::size_t calls_in_flight(const std::function<bool(const tenant_id&)>& which);

  /// The gate of a cluster, created on first use. Gates live as long as the
  /// engine. Thread-safe.
  provider_gate& gate(const std::string& cluster);
  /// Empties every gate's queue (shutdown: their intents settle at the next start).
  void clear_gates();

  /// Cluster actors, published by the registry as it spawns them, so request
  /// actors reach them without a hop through the registry. Thread-safe.
  caf::actor cluster_actor(const std::string& id);
  void publish_cluster_actor(const std::string& id, caf::actor a);
  void forget_cluster_actors();

  /// Sends `stuck` to the owner of every overdue provider call, then
  /// schedules itself again on the injected timers (until stopping).
  void sweep();

 private:
  std::mutex calls_mutex_;
  std::unordered_map<std::string, std::size_t> calls_;  // by tenant
  std::mutex gates_mutex_;
  std::map<std::string, std::unique_ptr<provider_gate>> gates_;  // by cluster id
  std::mutex cluster_actors_mutex_;
  std::unordered_map<std::string, caf::actor> cluster_actors_;
};

}  // namespace provisiond::actors::detail
