// Provider calls of the request actor: each runs on the I/O pool through the
// cluster's gate (circuit breaker + bulkhead) and answers the actor with a
// message; an exception from a provider is a retryable failure.
#include <chrono>

#include "actors/detail/scheduling.hpp"
#include "actors/request/request_actor.hpp"
#include "common/metrics.hpp"
#include "events/codec.hpp"

namespace provisiond::actors::detail {

namespace {

providers::step_call make_call(const request_state& s, step_kind step) {
  const auto& st = s.steps[static_cast<int>(step)];
  providers::step_call c;
  c.request_id = request_id{s.id};
  c.tenant_id = tenant_id{s.spec.tenant_id};
  c.order_id = s.spec.order_id;
  c.type = s.spec.type;
  c.region = s.spec.region;
  c.cluster_id = cluster_id{s.cluster_id};
  c.resources = s.spec.resources;
  c.step = step;
  c.attempt = st.attempts;
  c.idempotency_key = st.idempotency_key;
  c.inputs = s.outputs;
  return c;
}

// Runs a provider call on the I/O pool through the cluster's gate. `fn`
// sends its result to the actor and returns whether it failed retryably (the
// breaker counts those); `reject` answers instead while the breaker is open.
// Right before the call, the instance must still own the tenant (a valid
// lease): a paused instance that lost it calls no cloud; its actor stops.
template <class Fn, class Reject>
void on_gate(request_actor* self, context* ctx, const std::string& cluster, Fn fn, Reject reject) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.busy = true;
  auto* gate = &ctx->gate(cluster);
  auto tenant = self->state.req.spec.tenant_id;
  ctx->call_started(tenant);
  gate->submit(
      ctx->pool,
      [me, gate, ctx, tenant, fn = std::move(fn)]() mutable {
        bool owned = ctx->token_for(tenant).has_value();
        bool handing_over = ctx->opts.may_start_calls && !ctx->opts.may_start_calls(tenant_id{tenant});
        if (!owned || handing_over) {
          if (!owned) context::count_refusal();
          caf::anon_send(me, evict_atom::value, evict_msg{[](const tenant_id&) { return true; }});
          gate->done(false);
        } else {
          gate->done(fn(me));
        }
        ctx->call_ended(tenant);
      },
      [me, ctx, tenant, reject = std::move(reject)]() mutable {
        reject(me);
        ctx->call_ended(tenant);
      });
}

error circuit_open(const std::string& cluster) {
  return providers::retryable_error("circuit_open", "circuit breaker open for cluster " + cluster + ": failing fast");
}

}  // namespace

void call_step(request_actor* self, context* ctx, step_kind step) {
  auto& st = self->state;
  auto prov = ctx->opts.providers->find(st.req.spec.provider);
  auto call = make_call(st.req, step);
  bool settle = st.recovered;
  st.recovered = false;
  auto kind = st.req.spec.provider;
  st.calling = std::make_pair(step, call.attempt);
  // Stuck detection: the provider call may never return (a hung TCP read, a
  // cloud task that never ends). Measured from the step's intent, so it
  // holds across restarts too.
  st.calling_id = ctx->watchdog.track(self->address(), step, call.attempt,
                                      st.req.steps[static_cast<int>(step)].started_at + ctx->opts.stuck_after_ms);
  on_gate(
      self, ctx, call.cluster_id.str(),
      [prov, call, settle, kind](caf::actor& me) {
        auto started = std::chrono::steady_clock::now();
        result<providers::step_outcome> r =
            providers::permanent_error("no_provider", "no provider for this cluster type");
        bool adopted = false;
        if (prov) {
          try {
            if (settle) {
              // An intent without an outcome: ask the provider before creating.
              auto found = prov->lookup(call);
              if (!found)
                r = found.error();
              else if (*found) {
                r = std::move(**found);
                adopted = true;
              } else {
                r = prov->execute(call);
              }
            } else {
              r = prov->execute(call);
            }
          } catch (const std::exception& e) {
            r = providers::retryable_error("provider_exception", e.what());
          }
        }
        auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto outcome = r ? "ok" : r.error().code == errc::retryable ? "retryable" : "permanent";
        metrics::registry::global()
            .get_histogram("provisiond_step_duration_seconds", "Provider call latency per step",
                           {{"provider", kind}, {"step", ev::to_string(call.step)}, {"outcome", outcome}})
            .observe(seconds);
        bool failed = !r && r.error().code == errc::retryable;
        caf::anon_send(me, stepdone_atom::value, step_done{call.step, call.attempt, std::move(r), adopted});
        return failed;
      },
      [call](caf::actor& me) {
        caf::anon_send(me, stepdone_atom::value,
                       step_done{call.step, call.attempt, circuit_open(call.cluster_id.str()), false});
      });
}

void call_release(request_actor* self, context* ctx, step_kind step) {
  auto& s = self->state.req;
  auto prov = ctx->opts.providers->find(s.spec.provider);
  providers::release_call call;
  call.request_id = request_id{s.id};
  call.cluster_id = cluster_id{s.cluster_id};
  call.step = step;
  call.attempt = s.compensation_attempts + 1;
  for (auto& r : s.resources)
    if (r.step == step) call.known.push_back(r);
  on_gate(
      self, ctx, call.cluster_id.str(),
      [prov, call](caf::actor& me) {
        result<std::vector<std::string>> r = std::vector<std::string>{};  // no provider: nothing was created
        if (prov) {
          try {
            r = prov->release(call);
          } catch (const std::exception& e) {
            r = providers::retryable_error("provider_exception", e.what());
          }
        }
        bool failed = !r && r.error().code == errc::retryable;
        caf::anon_send(me, released_atom::value, release_done{call.step, std::move(r)});
        return failed;
      },
      [call](caf::actor& me) {
        caf::anon_send(me, released_atom::value, release_done{call.step, circuit_open(call.cluster_id.str())});
      });
}

// Stops or starts the service at the provider (suspend / reactivate).
void call_power(request_actor* self, context* ctx) {
  auto& s = self->state.req;
  auto prov = ctx->opts.providers->find(s.spec.provider);
  auto action = s.pending_action.value_or(ev::lifecycle_action::suspend);
  auto id = s.id;
  auto cluster = s.cluster_id;
  on_gate(
      self, ctx, cluster,
      [prov, action, id, cluster](caf::actor& me) {
        status r = providers::permanent_error("no_provider", "no provider for this cluster type");
        if (prov) {
          try {
            r = prov->set_power(request_id{id}, cluster_id{cluster}, action == ev::lifecycle_action::reactivate);
          } catch (const std::exception& e) {
            r = providers::retryable_error("provider_exception", e.what());
          }
        }
        bool failed = !r && r.error().code == errc::retryable;
        caf::anon_send(me, powerdone_atom::value, power_done{action, std::move(r)});
        return failed;
      },
      [action, cluster](caf::actor& me) {
        caf::anon_send(me, powerdone_atom::value, power_done{action, circuit_open(cluster)});
      });
}

}  // namespace provisiond::actors::detail
