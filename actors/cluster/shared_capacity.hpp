#pragma once
/// Scale-out: cluster capacity shared by every instance (Redis, wired by the
/// binary). When the engine has one, each cluster actor reserves and
/// releases through it instead of deciding with its own book, so two
/// instances never place past a cluster's total. No CAF.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "common/cluster.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"

namespace provisiond::actors {

class shared_capacity {
 public:
  virtual ~shared_capacity() = default;
  /// Empty when reserved (or held by this request already), else why not
  /// ("not enough capacity (cpu needs 8, 4 free)"). An error when the store
  /// cannot decide now (unreachable): the request asks again later.
  /// Idempotent per request.
  virtual result<std::string> reserve(const cluster_id& cluster, const request_id& request,
                                      const cluster_capacity& want, const cluster_capacity& total) = 0;
  /// Gives the request's capacity back (idempotent).
  virtual status release(const cluster_id& cluster, const request_id& request) = 0;
  /// What is reserved on the cluster now, and by how many requests.
  virtual result<std::pair<cluster_capacity, std::size_t>> used(const cluster_id& cluster) = 0;
};

}  // namespace provisiond::actors
