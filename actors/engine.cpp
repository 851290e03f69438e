// The engine facade: starts the actor system and the registry, and turns
// each call into a message to the registry and a wait for its answer. The
// actors themselves live in request/, tenant/, cluster/ and detail/.
#include "actors/engine.hpp"

#include <cstdio>
#include <thread>

#include <caf/all.hpp>

#include "actors/detail/context.hpp"
#include "actors/detail/protocol.hpp"
#include "actors/detail/registry.hpp"
#include "actors/detail/scheduling.hpp"
#include "actors/tenant/admission_book.hpp"
#include "events/codec.hpp"

namespace provisiond::actors {

namespace ev = provisiond::events;
using namespace detail;

struct engine::impl {
  std::unique_ptr<detail::context> ctx;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor registry;
  std::atomic<bool> shut{false};
  bool clean = true;
};

engine::engine(engine_options opts) : impl_(std::make_unique<impl>()) {
  if (!opts.ids) opts.ids = make_random_id_source();
  int threads = opts.scheduler_threads;
  impl_->ctx = std::make_unique<detail::context>(std::move(opts));
  if (threads > 0) impl_->cfg.set("scheduler.max-threads", threads);
  impl_->cfg.set("logger.console", caf::atom("none"));
  impl_->sys = std::make_unique<caf::actor_system>(impl_->cfg);
  impl_->registry = impl_->sys->spawn(detail::registry_fn, impl_->ctx.get());
  auto* ctx = impl_->ctx.get();
  detail::call_at(ctx, ctx->now() + detail::stuck_watchdog::sweep_interval(ctx->opts.stuck_after_ms),
                  [ctx] { ctx->sweep(); });
}

engine::~engine() {
  if (shutdown(std::chrono::milliseconds(0))) return;
  // A provider call abandoned by shutdown may still return and touch the
  // context or send to its actor: both stay allocated until the process exits.
  (void)impl_->ctx.release();
  (void)impl_->sys.release();
}

result<submit_outcome> engine::submit(submit_command cmd) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  // dependsOn: ids of existing requests of the same tenant, each once, and no cycle.
  const auto& deps = cmd.spec.depends_on;
  if (deps.size() > 100) return make_error(errc::invalid_argument, "at most 100 dependencies", "dependsOn");
  // The read side may trail a submission made a moment ago (e.g. the Kafka
  // command before this one): let it catch up once before looking anything up.
  if (!deps.empty() && impl_->ctx->opts.sync_read_side) impl_->ctx->opts.sync_read_side();
  if (!cmd.request_id.empty()) {
    // A request on a dependency cycle could never start.
    auto cycle = dependency_cycle(cmd.request_id, deps, impl_->ctx->opts.lookup_request);
    if (!cycle.empty()) {
      std::string ids;
      for (auto& c : cycle) ids += (ids.empty() ? "" : ", ") + c;
      return make_error(errc::conflict, "dependency cycle: " + ids, "dependsOn");
    }
  }
  for (std::size_t i = 0; i < deps.size(); ++i) {
    if (std::find(deps.begin(), deps.begin() + i, deps[i]) != deps.begin() + i)
      return make_error(errc::invalid_argument, "request " + deps[i] + " is listed twice", "dependsOn");
    auto& lookup = impl_->ctx->opts.lookup_request;
    auto dep = lookup ? lookup(request_id{deps[i]}) : std::nullopt;
    if (!dep) return make_error(errc::invalid_argument, "unknown request id " + deps[i], "dependsOn");
    if (dep->spec.tenant_id != cmd.spec.tenant_id)
      return make_error(errc::invalid_argument, "request " + deps[i] + " belongs to another tenant", "dependsOn");
  }
  cmd.spec.request_hash = request_hash(cmd.spec);
  result<submit_outcome> out = make_error(errc::unavailable, "no reply from the engine");
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->registry, std::chrono::seconds(30), submit_atom::value,
                submit_msg{std::move(cmd.spec), std::move(cmd.dedupe_key), cmd.request_id.str()})
      .receive([&](submit_reply& r) { out = std::move(r.outcome); },
               [&](caf::error& e) { out = make_error(errc::unavailable, impl_->sys->render(e)); });
  return out;
}

namespace {

// Asks the registry and waits. A request actor may passivate just as a
// message is routed to it; that message comes back as request_receiver_down,
// and by then the registry has forgotten the actor, so asking again reaches a
// fresh one replayed from the stream.
template <class Reply, class... Ts>
Reply ask(caf::actor_system& sys, const caf::actor& registry, Reply fallback, const Ts&... xs) {
  caf::scoped_actor self{sys};
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool again = false;
    self->request(registry, std::chrono::seconds(30), xs...)
        .receive([&](Reply& r) { fallback = std::move(r); },
                 [&](caf::error& e) {
                   again = e == caf::sec::request_receiver_down;
                   fallback = Reply{make_error(errc::unavailable, sys.render(e))};
                 });
    if (!again) break;
  }
  return fallback;
}

}  // namespace

result<std::string> engine::approve(const request_id& id, std::string comment) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             decide_atom::value, decision_msg{id.str(), true, std::move(comment)})
      .state;
}

result<std::string> engine::reject(const request_id& id, std::string reason) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             decide_atom::value, decision_msg{id.str(), false, std::move(reason)})
      .state;
}

result<std::string> engine::lifecycle(const request_id& id, ev::lifecycle_action action, const std::string& dedupe_key,
                                      const tenant_id& tenant) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             lifecycle_atom::value, lifecycle_msg{id.str(), action, dedupe_key, tenant.str()})
      .state;
}

result<std::string> engine::complete(const request_id& id, complete_manual details) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             complete_atom::value, complete_msg{id.str(), std::move(details)})
      .state;
}

result<cluster_usage> engine::usage_of_cluster(const cluster_id& id) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, cluster_usage_reply{make_error(errc::unavailable, "no reply")},
             clusters_atom::value, id.str())
      .usage;
}

result<tenant_usage> engine::usage(const tenant_id& tenant) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, usage_reply{make_error(errc::unavailable, "no reply")}, usage_atom::value,
             tenant.str())
      .usage;
}

void engine::resume(const std::vector<request_id>& ids) {
  for (auto& id : ids) caf::anon_send(impl_->registry, resume_atom::value, id.str());
}

bool engine::shutdown(std::chrono::milliseconds grace) {
  if (impl_->shut.exchange(true)) return impl_->clean;
  auto& ctx = *impl_->ctx;
  ctx.stopping = true;
  // Let in-flight provider calls finish so their outcomes get persisted; a
  // call still running after `grace` is abandoned (its intent is settled at
  // the next start), never waited for.
  bool abandon = ctx.opts.abandon_calls_after_grace;
  bool finished = ctx.pool.drain(grace, abandon);
  impl_->clean = finished || !abandon;  // not abandoning, the pool joined every thread
  ctx.clear_gates();  // their intents are settled at the next start
  ctx.opts.timers->stop();
  auto deadline = std::chrono::steady_clock::now() + std::max(grace, std::chrono::milliseconds(2000));
  while (ctx.appends_in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  caf::anon_send(impl_->registry, stop_atom::value);
  impl_->registry = nullptr;
  impl_->sys->await_all_actors_done();
  // Appends still queued in the journal hold actor handles; let them finish.
  while (ctx.appends_in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!impl_->clean) return false;  // the actor system stays: see ~engine
  impl_->sys.reset();
  return true;
}

void engine::evict(std::function<bool(const tenant_id&)> which) {
  if (impl_->registry) caf::anon_send(impl_->registry, evict_atom::value, evict_msg{std::move(which)});
}

std::size_t engine::calls_in_flight(const std::function<bool(const tenant_id&)>& which) const {
  return impl_->ctx->calls_in_flight(which);
}

std::size_t engine::live_actors() const {
  return impl_->ctx->live.load();
}

std::size_t engine::live_supervisors() const {
  return impl_->ctx->live_supervisors.load();
}

std::string request_hash(const events::request_submitted& spec) {
  auto copy = spec;
  copy.idempotency_key.clear();
  copy.request_hash.clear();
  auto text = ev::encode_payload(copy);
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace provisiond::actors
