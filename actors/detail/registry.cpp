#include "actors/detail/registry.hpp"

#include "actors/cluster/cluster_actor.hpp"
#include "actors/detail/last_line.hpp"
#include "actors/detail/protocol.hpp"
#include "actors/detail/scheduling.hpp"
#include "actors/request/request_actor.hpp"
#include "actors/tenant/tenant_supervisor.hpp"
#include "common/log.hpp"

namespace provisiond::actors::detail {

namespace {

caf::actor spawn_request(registry_actor* self, context* ctx, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.live.find(id); it != st.live.end()) return it->second;
  auto a = self->spawn(request_actor_fn, ctx, id, caf::actor_cast<caf::actor>(self));
  self->monitor(a);
  st.live.emplace(id, a);
  st.ids.emplace(a.address(), id);
  return a;
}

caf::actor supervisor_for(registry_actor* self, context* ctx, const std::string& tenant) {
  auto& sups = self->state.supervisors;
  if (auto it = sups.find(tenant); it != sups.end()) return it->second;
  auto a = self->spawn(supervisor_fn, ctx, tenant, caf::actor_cast<caf::actor>(self));
  sups.emplace(tenant, a);
  return a;
}

caf::actor cluster_actor_for(registry_actor* self, context* ctx, const std::string& id) {
  auto& cs = self->state.clusters;
  if (auto it = cs.find(id); it != cs.end()) return it->second;
  auto a = self->spawn(cluster_fn, ctx, id);
  cs.emplace(id, a);
  ctx->publish_cluster_actor(id, a);
  return a;
}

}  // namespace

caf::behavior registry_fn(registry_actor* self, context* ctx) {
  answer_on_exception(self, "registry", [](registry_actor*) {});
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.ids.find(dm.source);
    if (it == st.ids.end()) return;
    auto id = it->second;
    st.ids.erase(it);
    st.live.erase(id);
    // An actor that stopped on an error is respawned from its stream, with
    // backoff; one that keeps failing is left for an operator (logged).
    if (dm.reason && !st.stopping) {
      int n = ++st.respawns[id];
      if (n <= 8) {
        send_after(ctx, caf::actor_cast<caf::actor>(self), time_ms{100} << n, respawn_atom::value, id);
      } else {
        log::error("request " + id + " keeps failing; left as it is in the journal", log::fields{}.request(id));
      }
    } else {
      st.respawns.erase(id);
    }
  });
  return {
      [=](submit_atom, submit_msg& msg) {
        auto id = msg.request_id.empty() ? ctx->opts.ids->next_request_id().str() : msg.request_id;
        auto a = spawn_request(self, ctx, id);
        return self->delegate(a, submit_atom::value, std::move(msg));
      },
      [=](resume_atom, const std::string& id) {
        if (self->state.stopping) return;
        auto a = spawn_request(self, ctx, id);
        self->send(a, resume_atom::value);
      },
      [=](passivate_atom, const std::string& id) {
        auto& st = self->state;
        auto it = st.live.find(id);
        if (it == st.live.end()) return;
        st.ids.erase(it->second.address());
        st.live.erase(it);
      },
      [=](respawn_atom, const std::string& id) {
        if (self->state.stopping) return;
        auto a = spawn_request(self, ctx, id);
        self->send(a, resume_atom::value);
      },
      [=](admit_atom, admit_msg& m) {
        auto sup = supervisor_for(self, ctx, m.spec.tenant_id);
        return self->delegate(sup, admit_atom::value, std::move(m));
      },
      [=](status_atom, status_msg& m) {
        self->send(supervisor_for(self, ctx, m.tenant), status_atom::value, std::move(m));
      },
      [=](idle_atom, const std::string& tenant) {
        auto& sups = self->state.supervisors;
        auto it = sups.find(tenant);
        if (it == sups.end() || it->second.address() != caf::actor_cast<caf::actor_addr>(self->current_sender()))
          return;
        self->send(it->second, stop_atom::value);
        sups.erase(it);
      },
      [=](usage_atom, const std::string& tenant) {
        return self->delegate(supervisor_for(self, ctx, tenant), usage_atom::value);
      },
      [=](reserve_atom, reserve_msg& m) {
        return self->delegate(cluster_actor_for(self, ctx, m.cluster), reserve_atom::value, std::move(m));
      },
      [=](release_atom, release_msg& m) {
        self->send(cluster_actor_for(self, ctx, m.cluster), release_atom::value, std::move(m));
      },
      [=](clusters_atom, const std::string& id) {
        return self->delegate(cluster_actor_for(self, ctx, id), clusters_atom::value);
      },
      [=](complete_atom, complete_msg& m) {
        auto a = spawn_request(self, ctx, m.id);
        return self->delegate(a, complete_atom::value, std::move(m));
      },
      [=](decide_atom, decision_msg& m) {
        auto a = spawn_request(self, ctx, m.id);
        return self->delegate(a, decide_atom::value, std::move(m));
      },
      [=](lifecycle_atom, lifecycle_msg& m) {
        auto a = spawn_request(self, ctx, m.id);
        return self->delegate(a, lifecycle_atom::value, std::move(m));
      },
      [=](evict_atom, evict_msg& m) {
        // Supervisors of those tenants go now (rebuilt from the read side if
        // the tenants come back); request actors check their own tenant.
        auto& sups = self->state.supervisors;
        for (auto it = sups.begin(); it != sups.end();) {
          if (m.which(tenant_id{it->first})) {
            self->send(it->second, stop_atom::value);
            it = sups.erase(it);
          } else {
            ++it;
          }
        }
        for (auto& [id, a] : self->state.live) self->send(a, evict_atom::value, m);
      },
      [=](stop_atom) {
        self->state.stopping = true;
        for (auto& [id, a] : self->state.live) self->send_exit(a, caf::exit_reason::user_shutdown);
        for (auto& [t, a] : self->state.supervisors) self->send_exit(a, caf::exit_reason::user_shutdown);
        for (auto& [c, a] : self->state.clusters) self->send_exit(a, caf::exit_reason::user_shutdown);
        ctx->forget_cluster_actors();
        self->quit();
      },
  };
}

}  // namespace provisiond::actors::detail
