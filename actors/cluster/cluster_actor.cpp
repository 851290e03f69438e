#include "actors/cluster/cluster_actor.hpp"

#include <optional>

#include "actors/detail/last_line.hpp"
#include "actors/detail/protocol.hpp"

namespace provisiond::actors::detail {

namespace {

std::optional<cluster_config> find_cluster(context* ctx, const std::string& id) {
  if (!ctx->opts.clusters) return std::nullopt;
  for (auto& c : ctx->opts.clusters())
    if (c.id == id) return c;
  return std::nullopt;
}

}  // namespace

caf::behavior cluster_fn(cluster_actor* self, context* ctx, std::string id) {
  auto& st = self->state;
  st.id = id;
  answer_on_exception(self, "cluster", [](cluster_actor*) {});
  if (ctx->opts.cluster_holders)
    for (auto& r : ctx->opts.cluster_holders(cluster_id{id}))
      if (r.capacity_held && r.cluster_id == id) st.book.hold(r.id, r.capacity);
  return {
      [=](reserve_atom, reserve_msg& m) {
        auto& st = self->state;
        // Asked again after a restart of the request: no need to read the registry.
        if (st.book.holds(m.request_id)) return reserve_reply{};
        return reserve_reply{st.book.reserve(m.request_id, m.want, find_cluster(ctx, st.id))};
      },
      [=](release_atom, release_msg& m) { self->state.book.release(m.request_id); },
      [=](clusters_atom) {
        auto& st = self->state;
        cluster_usage u;
        u.used = st.book.used();
        u.requests = st.book.holders();
        static const char* names[] = {"closed", "open", "half-open"};
        u.breaker = names[static_cast<int>(ctx->gate(st.id).state())];
        return cluster_usage_reply{u};
      },
  };
}

}  // namespace provisiond::actors::detail
