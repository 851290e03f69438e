#pragma once
/// Which tenants this instance drives when several share the work. The
/// consumer group of `provisioning.commands` assigns partitions; for each
/// assigned partition this instance restores the changelog
/// (journal_replica), takes the Redis lease `partition-<p>` with a fencing
/// token above every token the journal topic holds, restores again (what the
/// previous owner published before letting go), and only then resumes the
/// partition's requests. A tenant belongs to partition_of(tenant).
///
/// token_for() is asked before every append and provider call: it answers
/// only while the lease is held and its time-to-live, counted on this
/// machine's monotonic clock from the last successful renewal, has not run
/// out — so an instance paused past the TTL cannot write when it wakes up,
/// before it even learns that it lost the lease.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "events/kafka/journal_replica.hpp"
#include "events/redis/lease.hpp"

namespace provisiond::scaleout {

struct ownership_options {
  std::string instance_id;
  std::string advertise;  ///< host:port other instances forward this instance's HTTP writes to
  std::int32_t partitions = 0;
  std::shared_ptr<events::redis::lease_store> leases;
  events::kafka::journal_replica* replica = nullptr;
  time_ms lease_ttl_ms = 10'000;
  /// Revocation: how long in-flight provider calls get before the lease goes.
  std::chrono::milliseconds grace{30'000};
  /// Provider calls in flight for the tenants of these partitions.
  std::function<std::size_t(const std::vector<std::int32_t>&)> calls_in_flight;
  /// True once the journal's outbox is published (the next owner restores it).
  std::function<bool()> outbox_empty;
  /// Blocks until the read models have folded what the journal holds (so a
  /// tenant supervisor rebuilt from them counts the previous owner's work).
  std::function<void()> settle;
  /// Partitions now driven here: resume their unfinished requests.
  std::function<void(const std::vector<std::int32_t>&)> gained;
  /// Partitions no longer driven here: stop their actors.
  std::function<void(const std::vector<std::int32_t>&)> lost;
};

/// Who holds a partition's lease.
struct holder {
  std::string instance;
  std::string address;  ///< advertised host:port
  std::uint64_t token = 0;
};

class partition_owner {
 public:
  explicit partition_owner(ownership_options o);
  /// Releases every lease.
  ~partition_owner();
  partition_owner(const partition_owner&) = delete;
  partition_owner& operator=(const partition_owner&) = delete;

  /// Starts renewing (every TTL/3) and re-acquiring assigned partitions
  /// whose lease was lost (a Redis restart).
  void start();

  /// The consumer group's assignment and revocation (blocking: called on
  /// the consumer's thread, which consumes nothing meanwhile).
  void assigned(const std::vector<std::int32_t>& partitions);
  void revoked(const std::vector<std::int32_t>& partitions);

  /// Stops renewing and releases every lease (SIGTERM, after the engine
  /// stopped). Safe to call twice.
  void release_all();

  /// The fencing token of the tenant's partition while this instance holds
  /// its lease, else nullopt. Thread-safe; cheap.
  std::optional<std::uint64_t> token_for(const tenant_id& tenant) const;
  std::optional<std::uint64_t> token_for_partition(std::int32_t partition) const;
  /// False while the tenant's partition is handed over (revoked, draining):
  /// running calls finish, no new one starts.
  bool may_start_calls(const tenant_id& tenant) const;
  std::int32_t partition_of(const std::string& tenant) const;
  /// True while the partition is assigned here but not ready (restoring) or
  /// being handed over: writes for it should be retried shortly.
  bool moving(std::int32_t partition) const;
  /// The holder of a partition's lease, from Redis.
  std::optional<holder> holder_of(std::int32_t partition) const;
  std::size_t owned() const;
  const std::string& instance_id() const { return opts_.instance_id; }

 private:
  struct slot {
    bool assigned = false;
    bool ready = false;  // restored since the lease was taken: writes may go
    bool draining = false;
    std::optional<events::redis::lease> lease;
    std::chrono::steady_clock::time_point valid_until{};
    std::uint64_t last_token = 0;
  };
  bool try_take(std::int32_t p);
  void restore(const std::vector<std::int32_t>& taken);
  void renew_loop();
  void retake_loop();
  std::string name(std::int32_t p) const { return "partition-" + std::to_string(p); }

  ownership_options opts_;
  mutable std::mutex mutex_;
  std::vector<slot> slots_;
  std::thread renewer_;
  std::thread retaker_;
  std::vector<std::int32_t> to_retake_;  // leases taken again by the renewer, to restore
  bool stopping_ = false;
  std::condition_variable wake_;
};

}  // namespace provisiond::scaleout
