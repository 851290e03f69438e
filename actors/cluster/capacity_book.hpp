#pragma once
/// One cluster's capacity book, as pure code: who holds how much, what is
/// used, and whether a new reservation fits. The cluster actor owns one and
/// has the last word on placement; this is what it decides with. Also the
/// reason a placement records. No CAF, no I/O.

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/cluster.hpp"
#include "events/domain_events.hpp"

namespace provisiond::actors {

class capacity_book {
 public:
  /// Rebuilds from the requests that hold capacity on the cluster (the read
  /// side at start). A request listed twice counts once.
  void hold(const std::string& request_id, const cluster_capacity& amount);

  /// Reserves `want` for a request on `cluster` (nullopt: it was deleted).
  /// Returns why not ("cpu needs 8, 4 free", "health is offline", ...), or
  /// empty when reserved. Idempotent per request: asking again (after a
  /// restart of the request) keeps the first reservation and succeeds.
  std::string reserve(const std::string& request_id, const cluster_capacity& want,
                      const std::optional<cluster_config>& cluster);

  /// Gives a request's capacity back. Idempotent; unknown requests are ignored.
  void release(const std::string& request_id);

  const cluster_capacity& used() const noexcept { return used_; }
  std::size_t holders() const noexcept { return holders_.size(); }
  bool holds(const std::string& request_id) const { return holders_.count(request_id) > 0; }

 private:
  cluster_capacity used_;
  std::unordered_map<std::string, cluster_capacity> holders_;  // by request id
};

/// The `cluster_placed` reason: "b-big is the first simulation cluster in
/// test-1 with room (skipped: a-small: ...; c-down: ...)", or "... is the
/// default ..." for the region's default cluster.
std::string placement_reason(const std::string& cluster_id, bool is_default, const events::request_submitted& spec,
                             const std::vector<std::string>& skipped);

}  // namespace provisiond::actors
