#include "actors/detail/context.hpp"

#include "actors/detail/protocol.hpp"
#include "actors/detail/scheduling.hpp"
#include "common/metrics.hpp"

namespace provisiond::actors::detail {

context::context(engine_options o) : opts(std::move(o)), pool(std::max(1, opts.provider_threads)) {}

context::~context() {
  metrics::registry::global().remove_gauges("provisiond_breaker_state");
}

provider_gate& context::gate(const std::string& cluster) {
  std::lock_guard lock{gates_mutex_};
  auto& g = gates_[cluster];
  if (!g) {
    g = std::make_unique<provider_gate>(opts.gate, opts.time);
    metrics::registry::global().gauge(
        "provisiond_breaker_state", "Circuit breaker per cluster: 0 closed, 1 open, 2 half-open",
        {{"cluster", cluster}}, [p = g.get()] { return static_cast<double>(p->state()); });
  }
  return *g;
}

void context::clear_gates() {
  std::lock_guard lock{gates_mutex_};
  for (auto& [cluster, g] : gates_) g->clear();
}

caf::actor context::cluster_actor(const std::string& id) {
  std::lock_guard lock{cluster_actors_mutex_};
  auto it = cluster_actors_.find(id);
  return it == cluster_actors_.end() ? caf::actor{} : it->second;
}

void context::publish_cluster_actor(const std::string& id, caf::actor a) {
  std::lock_guard lock{cluster_actors_mutex_};
  cluster_actors_.emplace(id, std::move(a));
}

void context::forget_cluster_actors() {
  std::lock_guard lock{cluster_actors_mutex_};
  cluster_actors_.clear();
}

void context::sweep() {
  for (auto& c : watchdog.take_overdue(now()))
    if (auto owner = caf::actor_cast<caf::actor>(c.owner)) caf::anon_send(owner, stuck_atom::value, c.step, c.attempt);
  if (!stopping.load()) call_at(this, now() + stuck_watchdog::sweep_interval(opts.stuck_after_ms), [this] { sweep(); });
}

}  // namespace provisiond::actors::detail
