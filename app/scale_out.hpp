#pragma once
/// The binary's scale-out wiring (README "Several instances"): the
/// changelog replica, the Redis leases per partition and the hooks that tie
/// them to the consumer group, the engine and the gateway.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "actors/engine.hpp"
#include "common/result.hpp"
#include "common/settings.hpp"
#include "events/journal.hpp"
#include "events/kafka/journal_replica.hpp"
#include "gateway/api.hpp"
#include "gateway/forwarding.hpp"
#include "gateway/kafka_intake.hpp"
#include "projections/request_summary.hpp"
#include "scaleout/partition_owner.hpp"

namespace provisiond::app {

struct scale_out_settings {
  std::string instance_id;
  std::string advertise;  ///< host:port
  std::string redis_url;
  time_ms lease_ttl_ms = 10'000;
  time_ms grace_ms = 30'000;
  int max_forwarding = 1;  ///< writes proxied to their owners at once (below the HTTP threads)
};

class scale_out {
 public:
  /// Restores the changelog (every partition, up to its end now) into the
  /// journal before anything else runs, and connects to Redis.
  static result<std::unique_ptr<scale_out>> open(const scale_out_settings& s, const std::string& bootstrap,
                                                 const kafka_config& kafka, std::shared_ptr<events::journal> journal,
                                                 projections::request_summary_projection* summaries,
                                                 const std::string& data_dir);
  ~scale_out();

  /// The engine's fencing: the token of the tenant's partition while held here.
  std::function<std::optional<std::uint64_t>(const tenant_id&)> fencing();
  /// The engine's may_start_calls: not while the tenant's partition is handed over.
  std::function<bool(const tenant_id&)> may_start_calls();
  /// The admin state's writer token: the token of the partition of
  /// `admin_partition_key` while held here (governance, cluster registry).
  std::function<std::optional<std::uint64_t>()> admin_token();
  /// Called after the replica restored admin events another instance wrote.
  void on_admin_change(std::function<void()> fn);
  /// The engine's shared cluster capacity (Redis).
  std::shared_ptr<actors::shared_capacity> capacity() { return capacity_; }
  /// The gateway's forwarder of writes for tenants owned elsewhere (set
  /// before the HTTP server starts; until attach() it answers 503, retry).
  gateway::forwarder forwarder();
  /// Ties ownership to the engine and the consumer group (call before
  /// intake->start()) and starts renewing leases. `advertise`: where the
  /// others forward writes for this instance's tenants (its HTTP address).
  void attach(actors::engine* engine, gateway::kafka_intake* intake, const std::string& advertise);
  /// After the engine stopped: releases every lease, stops the replica.
  void stop();
  events::kafka::journal_replica& replica() { return *replica_; }
  scaleout::partition_owner& owner() { return *owner_; }

 private:
  scale_out() = default;
  std::vector<request_id> unfinished_in(const std::vector<std::int32_t>& partitions);
  scale_out_settings settings_;
  std::shared_ptr<events::journal> journal_;
  projections::request_summary_projection* summaries_ = nullptr;
  actors::engine* engine_ = nullptr;
  std::unique_ptr<events::kafka::journal_replica> replica_;
  std::shared_ptr<events::redis::lease_store> leases_;
  std::shared_ptr<actors::shared_capacity> capacity_;
  std::mutex admin_mutex_;
  std::function<void()> admin_changed_;
  std::unique_ptr<scaleout::partition_owner> owner_;
  std::atomic<scaleout::partition_owner*> live_{nullptr};  // owner_, once attached (read by actors)
};

}  // namespace provisiond::app
