// Placement from the request's side: plan from the registered clusters,
// then ask each candidate's actor in turn to reserve the capacity; the first
// that has room wins, and every refusal is kept for the reason.
#include <memory>

#include "actors/cluster/capacity_book.hpp"
#include "actors/cluster/cluster_logic.hpp"
#include "actors/detail/scheduling.hpp"
#include "actors/request/request_actor.hpp"

namespace provisiond::actors::detail {

namespace {

struct placement_attempt {
  placement_plan plan;
  std::vector<cluster_config> clusters;
  cluster_capacity want;
};

void try_candidate(request_actor* self, context* ctx, std::shared_ptr<placement_attempt> p, std::size_t i) {
  auto& st = self->state;
  const auto& spec = st.req.spec;
  if (i == p->plan.candidates.size()) {
    st.busy = false;
    if (!stage(self, ctx, place_request{std::nullopt, no_cluster_reason(spec, p->plan.skipped), {}}))
      return self->quit(caf::sec::runtime_error);
    return drive(self, ctx);
  }
  auto id = p->plan.candidates[i];
  auto target = ctx->cluster_actor(id);  // direct once the registry has spawned it
  self->request(target ? target : st.registry, caf::infinite, reserve_atom::value, reserve_msg{id, st.req.id, p->want})
      .then(
          [=](reserve_reply& r) {
            if (r.unavailable) {  // the shared capacity store cannot decide now: the whole placement again later
              log_warn(self, "placement on " + id + " waits: the shared capacity store is unavailable");
              return send_after(ctx, caf::actor_cast<caf::actor>(self), 1000, wake_atom::value);
            }
            if (!r.refusal.empty()) {
              p->plan.skipped.push_back(id + ": " + r.refusal);
              return try_candidate(self, ctx, p, i + 1);
            }
            auto& st = self->state;
            st.busy = false;
            bool is_default = std::any_of(p->clusters.begin(), p->clusters.end(),
                                          [&](auto& c) { return c.id == id && c.is_default; });
            auto reason = placement_reason(id, is_default, spec, p->plan.skipped);
            if (!stage(self, ctx, place_request{id, reason, p->want})) return self->quit(caf::sec::runtime_error);
            st.held_cluster = id;
            drive(self, ctx);
          },
          [=](caf::error& e) {
            log_error(self, "placement failed: " + to_string(e));
            send_after(ctx, caf::actor_cast<caf::actor>(self), 1000, wake_atom::value);
          });
}

}  // namespace

void place(request_actor* self, context* ctx) {
  auto& st = self->state;
  st.busy = true;
  auto p = std::make_shared<placement_attempt>();
  if (ctx->opts.clusters) p->clusters = ctx->opts.clusters();
  p->plan = plan_placement(st.req.spec, p->clusters);
  p->want = capacity_of(st.req.spec);
  try_candidate(self, ctx, std::move(p), 0);
}

// Tells the cluster actor that the capacity this request held is free again
// (once capacity_released is durable).
void report_capacity(request_actor* self, context* ctx) {
  auto& st = self->state;
  if (st.held_cluster.empty() || st.req.capacity_held) return;
  auto target = ctx->cluster_actor(st.held_cluster);
  self->send(target ? target : st.registry, release_atom::value, release_msg{st.held_cluster, st.req.id});
  st.held_cluster.clear();
}

}  // namespace provisiond::actors::detail
