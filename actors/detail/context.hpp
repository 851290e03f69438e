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
  std::mutex gates_mutex_;
  std::map<std::string, std::unique_ptr<provider_gate>> gates_;  // by cluster id
  std::mutex cluster_actors_mutex_;
  std::unordered_map<std::string, caf::actor> cluster_actors_;
};

}  // namespace provisiond::actors::detail
