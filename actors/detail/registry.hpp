#pragma once
/// The registry: the one actor every command enters through. It maps request
/// ids to request actors (spawned on demand, replaying their stream; forgotten
/// when they passivate; respawned with backoff after an error), tenants to
/// their supervisors and clusters to their actors, and routes messages.

#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/detail/context.hpp"

namespace provisiond::actors::detail {

struct registry_state {
  std::unordered_map<std::string, caf::actor> live;
  std::unordered_map<std::string, caf::actor> supervisors;  // by tenant; passivated when idle
  std::unordered_map<std::string, caf::actor> clusters;     // by cluster id; never passivated
  std::unordered_map<std::string, int> respawns;            // per request, after errors
  std::unordered_map<caf::actor_addr, std::string> ids;
  bool stopping = false;
  static inline const char* name = "registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

caf::behavior registry_fn(registry_actor* self, context* ctx);

}  // namespace provisiond::actors::detail
