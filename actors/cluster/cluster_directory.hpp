#pragma once
/// The cluster registry: admin state, event-sourced in the journal stream
/// `clusters` (cluster_saved / cluster_deleted) and held in memory. Secret
/// connection fields go to the secret store, never into the events.
/// Thread-safe; writes block on the journal, so call them from request
/// threads, never from an actor. Capacity in use is the cluster actors'
/// business (engine), not this registry's.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/cluster.hpp"
#include "common/result.hpp"
#include "events/journal.hpp"
#include "actors/governance/admin_stream.hpp"
#include "events/secret_store.hpp"

namespace provisiond::actors {

class cluster_directory {
 public:
  cluster_directory(std::shared_ptr<events::journal> journal, std::shared_ptr<clock> time,
                    std::shared_ptr<events::secret_store> secrets);

  /// Replays the stream, then registers each `seed` cluster whose id it does
  /// not know yet (config-file clusters), with its secrets. Call once.
  status load(const std::vector<cluster_config>& seed,
              const std::map<std::string, std::map<std::string, std::string>>& seed_secrets);

  /// Scale-out: writes carry this token and reach the other instances
  /// (admin_stream::share), and config-file clusters are held in memory by
  /// every instance instead of being written. Call before load().
  void share(std::function<std::optional<std::uint64_t>()> token);
  /// Folds what the journal holds beyond what is folded (another instance's
  /// writes, restored by the replica).
  status refresh();

  /// Registers a cluster; the id is assigned when empty. conflict if it exists.
  result<cluster_config> create(cluster_definition d);
  /// Replaces a cluster's settings (keeps its id and creation time). Secret
  /// fields the body omits keep their stored value. not_found if missing.
  result<cluster_config> update(const std::string& id, cluster_definition d);
  /// Removes a cluster and shreds its secrets. not_found if missing.
  status remove(const std::string& id);

  std::vector<cluster_config> list() const;  ///< in id order
  std::optional<cluster_config> get(const std::string& id) const;
  /// The connection object with its secrets filled in, for providers only.
  result<std::string> connection(const std::string& id) const;

 private:
  status refresh_locked();
  status store_secrets(const std::string& id, const std::map<std::string, std::string>& secrets);

  std::shared_ptr<clock> clock_;
  std::shared_ptr<events::secret_store> secrets_;
  mutable std::mutex mutex_;
  admin_stream stream_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, cluster_config> clusters_;
};

}  // namespace provisiond::actors
