#include "actors/cluster/cluster_actor.hpp"

#include <optional>

#include "actors/cluster/cluster_logic.hpp"
#include "actors/cluster/shared_capacity.hpp"
#include "actors/detail/last_line.hpp"
#include "actors/detail/protocol.hpp"
#include "actors/detail/scheduling.hpp"

namespace provisiond::actors::detail {

namespace {

std::optional<cluster_config> find_cluster(context* ctx, const std::string& id) {
  if (!ctx->opts.clusters) return std::nullopt;
  for (auto& c : ctx->opts.clusters())
    if (c.id == id) return c;
  return std::nullopt;
}

// Scale-out: the store shared with the other instances decides. Health and
// the provisioning switch are checked here; capacity there, atomically.
reserve_reply reserve_shared(context* ctx, const std::string& cluster, const reserve_msg& m) {
  auto c = find_cluster(ctx, cluster);
  if (!c) return reserve_reply{"cluster was deleted"};
  if (auto why = not_accepting(*c); !why.empty()) return reserve_reply{why};
  auto r = ctx->opts.capacity->reserve(cluster_id{cluster}, request_id{m.request_id}, m.want, c->capacity);
  if (!r) return reserve_reply{{}, true};
  return reserve_reply{*r};
}

// Releases the shared store could not take yet are asked again every second.
void release_shared(cluster_actor* self, context* ctx, const std::string& request) {
  auto& st = self->state;
  if (ctx->opts.capacity->release(cluster_id{st.id}, request_id{request})) {
    st.pending_releases.erase(request);
    return;
  }
  bool first = st.pending_releases.empty();
  st.pending_releases.insert(request);
  if (first) send_after(ctx, caf::actor_cast<caf::actor>(self), 1000, wake_atom::value);
}

}  // namespace

caf::behavior cluster_fn(cluster_actor* self, context* ctx, std::string id) {
  auto& st = self->state;
  st.id = id;
  answer_on_exception(self, "cluster", [](cluster_actor*) {});
  if (ctx->opts.cluster_holders && !ctx->opts.capacity)
    for (auto& r : ctx->opts.cluster_holders(cluster_id{id}))
      if (r.capacity_held && r.cluster_id == id) st.book.hold(r.id, r.capacity);
  return {
      [=](reserve_atom, reserve_msg& m) {
        auto& st = self->state;
        if (ctx->opts.capacity) return reserve_shared(ctx, st.id, m);
        // Asked again after a restart of the request: no need to read the registry.
        if (st.book.holds(m.request_id)) return reserve_reply{};
        return reserve_reply{st.book.reserve(m.request_id, m.want, find_cluster(ctx, st.id))};
      },
      [=](release_atom, release_msg& m) {
        if (ctx->opts.capacity) return release_shared(self, ctx, m.request_id);
        self->state.book.release(m.request_id);
      },
      [=](wake_atom) {
        auto pending = self->state.pending_releases;
        self->state.pending_releases.clear();
        for (auto& r : pending) release_shared(self, ctx, r);
      },
      [=](clusters_atom) {
        auto& st = self->state;
        cluster_usage u;
        if (ctx->opts.capacity) {
          auto shared = ctx->opts.capacity->used(cluster_id{st.id});
          if (!shared) return cluster_usage_reply{shared.error()};
          u.used = shared->first;
          u.requests = shared->second;
        } else {
          u.used = st.book.used();
          u.requests = st.book.holders();
        }
        static const char* names[] = {"closed", "open", "half-open"};
        u.breaker = names[static_cast<int>(ctx->gate(st.id).state())];
        return cluster_usage_reply{u};
      },
  };
}

}  // namespace provisiond::actors::detail
