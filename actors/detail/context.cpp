#include "actors/detail/context.hpp"

#include "actors/detail/protocol.hpp"
#include "actors/detail/scheduling.hpp"
#include "common/metrics.hpp"

namespace provisiond::actors::detail {

void context::call_started(const std::string& tenant) {
  std::lock_guard lock{calls_mutex_};
  ++calls_[tenant];
}

void context::call_ended(const std::string& tenant) {
  std::lock_guard lock{calls_mutex_};
  auto it = calls_.find(tenant);
  if (it != calls_.end() && --it->second == 0) calls_.erase(it);
}

std::size_t context::calls_in_flight(const std::function<bool(const tenant_id&)>& which) {
  std::lock_guard lock{calls_mutex_};
  std::size_t n = 0;
  for (auto& [tenant, count] : calls_)
    if (which(tenant_id{tenant})) n += count;
  return n;
}

void context::count_refusal() {
  static auto& refused = metrics::registry::global().get_counter(
      "provisiond_fencing_refusals_total", "Writes and provider calls refused to a writer that does not own the stream",
      {{"where", "lease"}});
  refused.inc();
}

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
