#pragma once
/// Cluster capacity shared by several instances: one atomic Lua script checks
/// and reserves a request's cpu, memory, storage and VM slot against the
/// cluster's total (idempotent per request id: reserving again succeeds and
/// counts once); release gives it back once.
///
/// Redis may lose the counters (a restart without persistence). A marker key
/// per cluster says they are known: reserve refuses to decide without it
/// (nullopt), and `restore` — the reconciler — folds in what the journal
/// says is held and sets the marker, atomically and at most once per loss.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "events/redis/redis_client.hpp"

namespace provisiond::events::redis {

/// cpu, memoryGb, storageGb, vmSlots.
using amounts = std::array<long long, 4>;

class capacity_store {
 public:
  capacity_store(std::shared_ptr<client> redis, std::string prefix);

  /// Empty when reserved (or already held by this request); otherwise why
  /// not ("cpu needs 8, 4 free"). nullopt: the counters are not known (lost,
  /// or never built): `restore` first.
  result<std::optional<std::string>> reserve(const std::string& cluster, const std::string& request_id, const amounts& want,
                              const amounts& total);
  /// True when something was released.
  result<bool> release(const std::string& cluster, const std::string& request_id);
  /// What is used now and by how many requests.
  result<std::pair<amounts, long long>> used(const std::string& cluster);
  /// Replaces the cluster's counters by these holders (request id, amounts).
  status rebuild(const std::string& cluster, const std::vector<std::pair<std::string, amounts>>& holders);
  /// When the counters are not known: adds these holders to what Redis holds
  /// now (reservations made since the loss stay) and marks them known. True
  /// when it did; false when they were known (another instance restored
  /// them first, or nothing was lost).
  result<bool> restore(const std::string& cluster, const std::vector<std::pair<std::string, amounts>>& holders);

 private:
  std::string used_key(const std::string& c) const { return prefix_ + "capacity:" + c + ":used"; }
  std::string holders_key(const std::string& c) const { return prefix_ + "capacity:" + c + ":holders"; }
  std::string known_key(const std::string& c) const { return prefix_ + "capacity:" + c + ":known"; }
  std::shared_ptr<client> redis_;
  std::string prefix_;
};

}  // namespace provisiond::events::redis
