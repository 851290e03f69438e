#pragma once
/// One actor per cluster owns its capacity book: reservations at placement,
/// releases once a request's capacity_released is durable. Rebuilt from the
/// read side when first needed; its settings come from the cluster registry.
/// With several instances (engine_options::capacity) the shared store holds
/// the book instead, and the actor checks health and forwards.

#include <set>
#include <string>

#include <caf/all.hpp>

#include "actors/cluster/capacity_book.hpp"
#include "actors/detail/context.hpp"

namespace provisiond::actors::detail {

struct cluster_state {
  std::string id;
  capacity_book book;                     ///< one instance: this decides
  std::set<std::string> pending_releases;  ///< scale-out: releases the shared store did not take yet
  static inline const char* name = "cluster";
};

using cluster_actor = caf::stateful_actor<cluster_state>;

caf::behavior cluster_fn(cluster_actor* self, context* ctx, std::string id);

}  // namespace provisiond::actors::detail
