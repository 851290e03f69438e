#include "actors/tenant/tenant_supervisor.hpp"

#include "actors/detail/last_line.hpp"
#include "actors/detail/protocol.hpp"
#include "actors/detail/scheduling.hpp"
#include "actors/governance/governance.hpp"

namespace provisiond::actors::detail {

namespace {

// Delivers what the book decided and arranges to look again when it asks.
void pump(supervisor_actor* self, context* ctx) {
  auto& st = self->state;
  auto lookup = [ctx](const std::string& id) -> std::optional<ev::lifecycle> {
    if (!ctx->opts.lookup_request) return std::nullopt;
    auto s = ctx->opts.lookup_request(request_id{id});
    return s ? std::optional<ev::lifecycle>{s->state} : std::nullopt;
  };
  auto out = st.book.pump(ctx->now(), lookup);
  for (auto& [id, d] : out.answers) {
    auto it = st.asking.find(id);
    if (it == st.asking.end()) continue;
    it->second.deliver(std::move(d));
    st.asking.erase(it);
  }
  if (out.look_again_at) send_at(ctx, caf::actor_cast<caf::actor>(self), *out.look_again_at, pump_atom::value);
}

// A tenant with nothing waiting and nothing in flight leaves memory after
// `supervisor_idle_ms` without a message: its reservations are rebuilt from
// the read side when it is next needed (the read side trails the journal by
// milliseconds, far less than the idle time).
void note_activity(supervisor_actor* self, context* ctx) {
  auto& st = self->state;
  st.last_active = ctx->now();
  if (!st.book.idle() || st.idle_check_due) return;
  st.idle_check_due = true;
  send_at(ctx, caf::actor_cast<caf::actor>(self), st.last_active + ctx->opts.supervisor_idle_ms, idle_atom::value);
}

// Stops the supervisor; a caller still waiting is told at once and asks again.
void stop_supervisor(supervisor_actor* self, caf::sec why) {
  for (auto& [id, rp] : self->state.asking) rp.deliver(caf::make_error(why));
  self->state.asking.clear();
  self->state.book.drop_asking();
  self->quit();
}

admission_decision reserve(supervisor_actor* self, context* ctx, const admit_msg& m) {
  auto& st = self->state;
  auto limits = ctx->opts.rules ? ctx->opts.rules->quota(st.tenant).value_or(no_quota) : no_quota;
  auto rules = ctx->opts.rules ? ctx->opts.rules->rules() : std::vector<approval_rule>{};
  return st.book.reserve(m.id, m.spec, m.order, limits, rules, ctx->now());
}

}  // namespace

caf::behavior supervisor_fn(supervisor_actor* self, context* ctx, std::string tenant, caf::actor registry) {
  auto& st = self->state;
  st.tenant = tenant;
  st.registry = std::move(registry);
  st.book = admission_book{ctx->opts.max_in_flight_per_tenant};
  answer_on_exception(self, "tenant-supervisor", [](supervisor_actor* a) {
    for (auto& [id, rp] : a->state.asking) rp.deliver(caf::make_error(caf::sec::runtime_error));
    a->state.asking.clear();
  });
  ctx->live_supervisors.fetch_add(1);
  self->attach_functor([ctx] { ctx->live_supervisors.fetch_sub(1); });
  // Rebuild from the read side: reservations and slots of this tenant's requests.
  if (ctx->opts.tenant_requests)
    for (auto& r : ctx->opts.tenant_requests(tenant_id{tenant})) st.book.restore(r);
  note_activity(self, ctx);
  return {
      [=](admit_atom, admit_msg& m) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        unwind_guard guard{rp};
        st.last_active = ctx->now();
        if (!m.quota_held) {
          // Phase 1: quota, then approval rules. One actor per tenant: no check-then-act race.
          rp.deliver(reserve(self, ctx, m));
          return;
        }
        // Phase 2: a working slot, FIFO, after the dependencies.
        if (auto now = st.book.ask_slot(m.id, m.order, m.spec.depends_on, ctx->now())) {
          rp.deliver(std::move(*now));
          return;
        }
        if (auto old = st.asking.find(m.id); old != st.asking.end()) {
          old->second.deliver(caf::make_error(caf::sec::request_receiver_down));  // superseded: asks again
          st.asking.erase(old);
        }
        st.asking.emplace(m.id, rp);
        pump(self, ctx);
      },
      [=](status_atom, status_msg& m) {
        self->state.book.record(m.id, m.state, m.quota_held, m.reserved, m.holds_slot);
        pump(self, ctx);
        note_activity(self, ctx);
      },
      [=](pump_atom) { pump(self, ctx); },
      [=](idle_atom) {
        auto& st = self->state;
        st.idle_check_due = false;
        if (!st.book.idle()) return;
        if (ctx->now() - st.last_active < ctx->opts.supervisor_idle_ms) return note_activity(self, ctx);
        // The registry forgets this supervisor, then tells it to stop: what it
        // routed here before that is handled first (one sender, in order).
        self->send(st.registry, idle_atom::value, st.tenant);
      },
      [=](stop_atom) { stop_supervisor(self, caf::sec::request_receiver_down); },
      [=](usage_atom) {
        auto& st = self->state;
        note_activity(self, ctx);
        tenant_usage u;
        u.used = st.book.used();
        u.in_flight = st.book.in_flight();
        u.waiting = st.book.asking();
        u.max_in_flight = ctx->opts.max_in_flight_per_tenant;
        return usage_reply{u};
      },
  };
}

}  // namespace provisiond::actors::detail
