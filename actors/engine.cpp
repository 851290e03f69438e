#include "actors/engine.hpp"
#include "common/json.hpp"

#include <atomic>
#include <map>
#include <set>
#include <mutex>
#include <cstdio>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/detail/io_pool.hpp"
#include "actors/cluster_logic.hpp"
#include "actors/detail/provider_gate.hpp"
#include "actors/governance.hpp"
#include "actors/tenant_logic.hpp"
#include "actors/request_logic.hpp"
#include "common/metrics.hpp"
#include "events/codec.hpp"

namespace provisiond::actors {
namespace {

namespace ev = provisiond::events;

struct submit_msg {
  ev::request_submitted spec;
  std::string dedupe_key;
  std::string request_id;  // chosen by the client, or empty
};
struct submit_reply {
  result<submit_outcome> outcome;
};
struct append_done {
  result<ev::append_result> r;
};
struct step_done {
  step_kind step;
  int attempt;
  result<providers::step_outcome> r;
  bool adopted;
};
struct release_done {
  step_kind step;
  result<std::vector<std::string>> r;
};
/// Request actor → tenant supervisor: decide quota/rules, or grant a slot.
struct admit_msg {
  std::string id;
  ev::request_submitted spec;
  std::uint64_t order;  // journal position of the submission (FIFO)
  bool quota_held;
};
/// Request actor → tenant supervisor, after each durable change that matters.
struct status_msg {
  std::string id;
  std::string tenant;
  ev::lifecycle state;
  bool quota_held;
  ev::quota_amount reserved;
  bool holds_slot;
};
struct decision_msg {
  std::string id;
  bool approve;
  std::string text;
};
struct decision_reply {
  result<std::string> state;
};
struct lifecycle_msg {
  std::string id;
  std::string action;
  std::string dedupe_key;
  std::string tenant;  // when set, the request must belong to it
};
struct power_done {
  std::string action;
  status r;
};
struct usage_reply {
  result<tenant_usage> usage;
};
/// Request actor → cluster actor (through the registry).
struct reserve_msg {
  std::string cluster;
  std::string request_id;
  cluster_capacity want;
};
struct reserve_reply {
  std::string refusal;  // empty: reserved
};
struct release_msg {
  std::string cluster;
  std::string request_id;
};
struct cluster_usage_reply {
  result<cluster_usage> usage;
};
struct complete_msg {
  std::string id;
  complete_manual details;
};

}  // namespace
}  // namespace provisiond::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::submit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::submit_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::append_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::step_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::release_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::admit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::status_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::decision_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::decision_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::lifecycle_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::power_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::usage_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::admission_decision)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::reserve_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::reserve_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::release_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::cluster_usage_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::complete_msg)

namespace provisiond::actors {
namespace {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;
using stepdone_atom = caf::atom_constant<caf::atom("stepdone")>;
using released_atom = caf::atom_constant<caf::atom("released")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using respawn_atom = caf::atom_constant<caf::atom("respawn")>;
using admit_atom = caf::atom_constant<caf::atom("admit")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using decide_atom = caf::atom_constant<caf::atom("decide")>;
using usage_atom = caf::atom_constant<caf::atom("usage")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;
using lifecycle_atom = caf::atom_constant<caf::atom("lifecycle")>;
using powerdone_atom = caf::atom_constant<caf::atom("powerdone")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using clusters_atom = caf::atom_constant<caf::atom("clusters")>;
using stuck_atom = caf::atom_constant<caf::atom("stuck")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;

/// A request waiting longer than this (backoff) leaves memory until it is due.
constexpr time_ms passivate_waits_over_ms = 1000;

using nlohmann::json;

/// Everything request actors share. Outlives every actor.
struct context {
  engine_options opts;
  detail::io_pool pool;
  std::atomic<bool> stopping{false};
  std::atomic<int> appends_in_flight{0};
  std::atomic<std::size_t> live{0};
  std::atomic<std::size_t> live_supervisors{0};
  std::mutex gates_mutex;
  std::map<std::string, std::unique_ptr<detail::provider_gate>> gates;  // by cluster id
  // Provider step calls in flight, for stuck detection: one entry per call,
  // removed when it answers, so memory follows the calls in flight. A sweep
  // every `sweep_ms` tells the owners of overdue calls.
  struct inflight_call {
    caf::actor_addr owner;
    step_kind step;
    int attempt;
    time_ms deadline;
  };
  std::mutex calls_mutex;
  std::unordered_map<std::uint64_t, inflight_call> calls;
  std::uint64_t next_call = 1;

  std::uint64_t track_call(const caf::actor_addr& owner, step_kind step, int attempt, time_ms deadline) {
    std::lock_guard lock{calls_mutex};
    auto id = next_call++;
    calls.emplace(id, inflight_call{owner, step, attempt, deadline});
    return id;
  }
  void untrack_call(std::uint64_t id) {
    std::lock_guard lock{calls_mutex};
    calls.erase(id);
  }
  time_ms sweep_ms() const { return std::clamp<time_ms>(opts.stuck_after_ms / 10, 10, 10'000); }
  // Sends `stuck` to the owner of every overdue call, then schedules itself again.
  void sweep();

  // Cluster actors, published by the registry as it spawns them, so request
  // actors reach them without a hop through the registry.
  std::mutex cluster_actors_mutex;
  std::unordered_map<std::string, caf::actor> cluster_actors;

  caf::actor cluster_actor(const std::string& id) {
    std::lock_guard lock{cluster_actors_mutex};
    auto it = cluster_actors.find(id);
    return it == cluster_actors.end() ? caf::actor{} : it->second;
  }

  explicit context(engine_options o) : opts(std::move(o)), pool(std::max(1, opts.provider_threads)) {}
  ~context() { metrics::registry::global().remove_gauges("provisiond_breaker_state"); }
  time_ms now() const { return opts.time->now(); }

  /// The gate of a cluster, created on first use. Gates live as long as the engine.
  detail::provider_gate& gate(const std::string& cluster) {
    std::lock_guard lock{gates_mutex};
    auto& g = gates[cluster];
    if (!g) {
      g = std::make_unique<detail::provider_gate>(opts.gate, opts.time);
      metrics::registry::global().gauge("provisiond_breaker_state",
                                        "Circuit breaker per cluster: 0 closed, 1 open, 2 half-open",
                                        {{"cluster", cluster}}, [p = g.get()] { return static_cast<double>(p->state()); });
    }
    return *g;
  }
};

void context::sweep() {
  std::vector<inflight_call> due;
  {
    std::lock_guard lock{calls_mutex};
    auto now = this->now();
    for (auto it = calls.begin(); it != calls.end();)
      if (it->second.deadline <= now) {
        due.push_back(it->second);
        it = calls.erase(it);
      } else {
        ++it;
      }
  }
  for (auto& c : due)
    if (auto owner = caf::actor_cast<caf::actor>(c.owner)) caf::anon_send(owner, stuck_atom::value, c.step, c.attempt);
  if (!stopping.load()) opts.timers->schedule(now() + sweep_ms(), [this] { sweep(); });
}

std::string dedupe_key(const ev::request_submitted& spec) {
  return "idem/" + spec.tenant_id + "/" + spec.idempotency_key;
}

struct request_actor_state {
  request_state req;
  std::uint64_t durable_version = 0;    // last sequence known durable
  std::vector<ev::event> pending;       // decided and applied, not yet appended
  std::optional<ev::dedupe_record> dedupe;
  std::optional<caf::response_promise> submit_promise;
  bool busy = false;       // an append, provider call or timer is outstanding
  bool recovered = false;  // the running step's intent came from replay: settle it first
  std::string dedupe_field;  // names the key in a conflict error
  caf::actor registry;
  std::uint64_t created_position = 0;  // journal position of request_submitted
  std::optional<status_msg> last_status;
  // Replies owed once the stream reaches a version (approve/reject).
  std::vector<std::pair<std::uint64_t, caf::response_promise>> owed;
  // The provider call outstanding (for stuck detection), and calls given up
  // as stuck whose answer may still come.
  std::optional<std::pair<step_kind, int>> calling;
  std::uint64_t calling_id = 0;  // its entry in context::calls
  std::set<std::pair<step_kind, int>> abandoned;
  // The cluster whose actor was last told this request holds capacity there.
  std::string held_cluster;
  static inline const char* name = "request";
};

using request_actor = caf::stateful_actor<request_actor_state>;

// Answers a promise that an exception unwinds past before it was delivered
// (the actor's exception handler cannot: the message counts as answered
// once its promise exists).
class unwind_guard {
 public:
  explicit unwind_guard(caf::response_promise& rp) : rp_(rp), uncaught_(std::uncaught_exceptions()) {}
  unwind_guard(const unwind_guard&) = delete;
  unwind_guard& operator=(const unwind_guard&) = delete;
  ~unwind_guard() {
    if (std::uncaught_exceptions() > uncaught_ && rp_.pending()) rp_.deliver(caf::make_error(caf::sec::runtime_error));
  }

 private:
  caf::response_promise& rp_;
  int uncaught_;
};

// The last line of defence (nothing in a handler should throw): an actor
// whose handler throws answers the message it was handling, if that is a
// request, and every caller it still owes (`owed`), with an error at once,
// then stops; the registry respawns request actors from their stream.
template <class Self, class Owed>
void answer_on_exception(Self* self, const char* kind, Owed owed) {
  self->set_exception_handler([self, kind, owed](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "provisiond: %s actor stopped on an exception: %s\n", kind, what.c_str());
    metrics::registry::global()
        .get_counter("provisiond_actor_exceptions_total", "Actor handlers that threw (answered with an error)",
                     {{"actor", kind}})
        .inc();
    auto rp = self->make_response_promise();
    if (rp.pending()) rp.deliver(caf::make_error(caf::sec::runtime_error));
    owed(self);
    return caf::make_error(caf::sec::runtime_error);
  });
}

void drive(request_actor* self, context* ctx);

void log_error(const request_actor* self, const std::string& what) {
  std::fprintf(stderr, "provisiond: request %s: %s\n", self->state.req.id.c_str(), what.c_str());
}

// Counts what the events say (retries, rollbacks, outcomes).
void count(const ev::event& e) {
  auto& m = metrics::registry::global();
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ev::step_failed>) {
          if (x.retry_at > 0)
            m.get_counter("provisiond_step_retries_total", "Step attempts that failed and will be retried",
                          {{"step", ev::to_string(x.step)}})
                .inc();
        } else if constexpr (std::is_same_v<T, ev::rollback_started>) {
          m.get_counter("provisiond_rollbacks_total", "Rollbacks started").inc();
        } else if constexpr (std::is_same_v<T, ev::compensation_failed>) {
          m.get_counter("provisiond_compensation_failures_total", "Release attempts that failed (retried)").inc();
        } else if constexpr (std::is_same_v<T, ev::request_completed>) {
          m.get_counter("provisiond_requests_completed_total", "Requests that completed").inc();
        } else if constexpr (std::is_same_v<T, ev::request_failed>) {
          m.get_counter("provisiond_requests_failed_total", "Requests that failed, by reason code", {{"code", x.code}})
              .inc();
        } else if constexpr (std::is_same_v<T, ev::request_submitted>) {
          m.get_counter("provisiond_requests_submitted_total", "Requests accepted").inc();
        }
      },
      e);
}

// Runs decide and applies its events to the in-memory state; they are
// appended by the next flush, before any I/O that depends on them.
bool stage(request_actor* self, context* ctx, const command& c) {
  auto& st = self->state;
  auto out = decide(st.req, c, decide_context{ctx->now(), ctx->opts.retry});
  if (!out) {
    log_error(self, "refused: " + out.error().message);
    return false;
  }
  auto now = ctx->now();
  for (auto& e : *out) {
    apply_in_place(st.req, e, now);
    count(e);
    st.pending.push_back(std::move(e));
  }
  return true;
}

void flush(request_actor* self, context* ctx) {
  auto& st = self->state;
  ev::append_request req;
  req.stream = ev::stream_for_request(st.req.id);
  req.expected_sequence = st.durable_version;
  auto now = ctx->now();
  for (auto& e : st.pending) req.events.push_back(ev::make_pending(e, now));
  req.dedupe = std::move(st.dedupe);
  st.dedupe.reset();
  st.pending.clear();
  st.busy = true;
  ctx->appends_in_flight.fetch_add(1);
  auto me = caf::actor_cast<caf::actor>(self);
  ctx->opts.journal->append_async(std::move(req), [me, ctx](result<ev::append_result> r) {
    caf::anon_send(me, appended_atom::value, append_done{std::move(r)});
    ctx->appends_in_flight.fetch_sub(1);
  });
}

providers::step_call make_call(const request_state& s, step_kind step) {
  const auto& st = s.steps[static_cast<int>(step)];
  providers::step_call c;
  c.request_id = s.id;
  c.tenant_id = s.spec.tenant_id;
  c.order_id = s.spec.order_id;
  c.type = s.spec.type;
  c.region = s.spec.region;
  c.cluster_id = s.cluster_id;
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
template <class Fn, class Reject>
void on_gate(request_actor* self, context* ctx, const std::string& cluster, Fn fn, Reject reject) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.busy = true;
  auto* gate = &ctx->gate(cluster);
  gate->submit(
      ctx->pool, [me, gate, fn = std::move(fn)]() mutable { gate->done(fn(me)); },
      [me, reject = std::move(reject)]() mutable { reject(me); });
}

error circuit_open(const std::string& cluster) {
  return providers::retryable_error("circuit_open", "circuit breaker open for cluster " + cluster + ": failing fast");
}

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
  st.calling_id = ctx->track_call(self->address(), step, call.attempt,
                                  st.req.steps[static_cast<int>(step)].started_at + ctx->opts.stuck_after_ms);
  on_gate(self, ctx, call.cluster_id, [prov, call, settle, kind](caf::actor& me) {
    auto started = std::chrono::steady_clock::now();
    result<providers::step_outcome> r = providers::permanent_error("no_provider", "no provider for this cluster type");
    bool adopted = false;
    if (prov) {
      try {
        if (settle) {
          // An intent without an outcome: ask the provider before creating.
          auto found = prov->lookup(call);
          if (!found) r = found.error();
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
  }, [call](caf::actor& me) {
    caf::anon_send(me, stepdone_atom::value, step_done{call.step, call.attempt, circuit_open(call.cluster_id), false});
  });
}

void call_release(request_actor* self, context* ctx, step_kind step) {
  auto& s = self->state.req;
  auto prov = ctx->opts.providers->find(s.spec.provider);
  providers::release_call call;
  call.request_id = s.id;
  call.cluster_id = s.cluster_id;
  call.step = step;
  call.attempt = s.compensation_attempts + 1;
  for (auto& r : s.resources)
    if (r.step == step) call.known.push_back(r);
  on_gate(self, ctx, call.cluster_id, [prov, call](caf::actor& me) {
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
  }, [call](caf::actor& me) {
    caf::anon_send(me, released_atom::value, release_done{call.step, circuit_open(call.cluster_id)});
  });
}

// Stops or starts the service at the provider (suspend / reactivate).
void call_power(request_actor* self, context* ctx) {
  auto& s = self->state.req;
  auto prov = ctx->opts.providers->find(s.spec.provider);
  auto action = s.pending_action;
  auto id = s.id;
  auto cluster = s.cluster_id;
  on_gate(self, ctx, cluster, [prov, action, id, cluster](caf::actor& me) {
    status r = providers::permanent_error("no_provider", "no provider for this cluster type");
    if (prov) {
      try {
        r = prov->set_power(id, cluster, action == "reactivate");
      } catch (const std::exception& e) {
        r = providers::retryable_error("provider_exception", e.what());
      }
    }
    bool failed = !r && r.error().code == errc::retryable;
    caf::anon_send(me, powerdone_atom::value, power_done{action, std::move(r)});
    return failed;
  }, [action, cluster](caf::actor& me) {
    caf::anon_send(me, powerdone_atom::value, power_done{action, circuit_open(cluster)});
  });
}

// Asks the tenant supervisor (through the registry). The answer may take as
// long as the tenant's queue ahead of this request.
void ask_admission(request_actor* self, context* ctx) {
  auto& st = self->state;
  st.busy = true;
  admit_msg m{st.req.id, st.req.spec, st.created_position, st.req.quota_held};
  self->request(st.registry, caf::infinite, admit_atom::value, std::move(m))
      .then(
          [=](admission_decision& d) {
            self->state.busy = false;
            if (!stage(self, ctx, record_admission{std::move(d)})) return self->quit(caf::sec::runtime_error);
            drive(self, ctx);
          },
          [=](caf::error& e) {
            log_error(self, "admission failed: " + to_string(e));
            auto me = caf::actor_cast<caf::actor>(self);
            ctx->opts.timers->schedule(ctx->now() + 1000, [me] { caf::anon_send(me, wake_atom::value); });
          });
}

// Placement: plan from the registered clusters, then ask each candidate's
// actor in turn to reserve the capacity; the first that has room wins. Every
// refusal is kept for the reason.
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
            if (!r.refusal.empty()) {
              p->plan.skipped.push_back(id + ": " + r.refusal);
              return try_candidate(self, ctx, p, i + 1);
            }
            auto& st = self->state;
            st.busy = false;
            bool is_default = std::any_of(p->clusters.begin(), p->clusters.end(),
                                          [&](auto& c) { return c.id == id && c.is_default; });
            auto reason = id + (is_default ? " is the default " : " is the first ") + spec.provider + " cluster in " +
                          spec.region + (is_default ? "" : " with room");
            if (!p->plan.skipped.empty()) {
              reason += " (skipped: ";
              for (std::size_t k = 0; k < p->plan.skipped.size(); ++k) reason += (k ? "; " : "") + p->plan.skipped[k];
              reason += ")";
            }
            if (!stage(self, ctx, place_request{id, reason, p->want})) return self->quit(caf::sec::runtime_error);
            st.held_cluster = id;
            drive(self, ctx);
          },
          [=](caf::error& e) {
            log_error(self, "placement failed: " + to_string(e));
            auto me = caf::actor_cast<caf::actor>(self);
            ctx->opts.timers->schedule(ctx->now() + 1000, [me] { caf::anon_send(me, wake_atom::value); });
          });
}

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

// Tells the tenant supervisor what changed (state, quota, slot).
void report_status(request_actor* self) {
  auto& st = self->state;
  if (!st.req.exists) return;
  status_msg m{st.req.id, st.req.spec.tenant_id, st.req.state, st.req.quota_held, st.req.reserved,
               ev::holds_slot(st.req)};
  auto& last = st.last_status;
  if (last && last->state == m.state && last->quota_held == m.quota_held && last->holds_slot == m.holds_slot) return;
  last = m;
  self->send(st.registry, status_atom::value, std::move(m));
}

// Leaves memory: everything is in the stream. The registry forgets this
// actor first, so the next message for the request spawns a fresh one.
void passivate(request_actor* self) {
  self->send(self->state.registry, passivate_atom::value, self->state.req.id);
  self->quit();
}

void drive(request_actor* self, context* ctx) {
  auto& st = self->state;
  for (int guard = 0; !st.busy && guard < 64; ++guard) {
    bool stopping = ctx->stopping.load();
    auto a = next_action(st.req, ctx->now());
    if (stopping && (a.kind == action::place || a.kind == action::start_step)) a.kind = action::none;
    switch (a.kind) {
      case action::start_step:
        if (!stage(self, ctx, start_step{})) return self->quit(caf::sec::runtime_error);
        continue;
      default: break;
    }
    if (!st.pending.empty()) return flush(self, ctx);
    if (stopping) return;
    switch (a.kind) {
      case action::admit: return ask_admission(self, ctx);
      case action::place: return place(self, ctx);
      case action::call_step: return call_step(self, ctx, a.step);
      case action::release: return call_release(self, ctx, a.step);
      case action::power: return call_power(self, ctx);
      case action::wait: {
        if (a.at - ctx->now() > passivate_waits_over_ms && st.owed.empty() && st.abandoned.empty()) {
          // A long backoff: the registry wakes the request when it is due.
          auto registry = st.registry;
          auto id = st.req.id;
          ctx->opts.timers->schedule(a.at, [registry, id] { caf::anon_send(registry, resume_atom::value, id); });
          return passivate(self);
        }
        st.busy = true;
        auto me = caf::actor_cast<caf::actor>(self);
        ctx->opts.timers->schedule(a.at, [me] { caf::anon_send(me, wake_atom::value); });
        return;
      }
      default:
        // Nothing to do until a command arrives (finished, or waiting for an
        // approval): passivate. The stream holds everything.
        // Not while a call given up as stuck may still answer: what it
        // created must be released.
        if (st.req.exists && st.owed.empty() && st.abandoned.empty() &&
            (is_terminal(st.req.state) || st.req.state == ev::lifecycle::pending_approval ||
             st.req.state == ev::lifecycle::suspended || awaiting_input(st.req)))
          passivate(self);
        return;
    }
  }
}

// An operator's command (approve, reject, a lifecycle action): decide it now,
// answer with the new state once its events are durable, 409 if it does not
// fit. A dedupe key already recorded makes it a no-op.
template <class ConflictMessage>
void answer_command(request_actor* self, context* ctx, const std::string& id, const command& c,
                    const std::string& dedupe_key, ConflictMessage conflict_message) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  unwind_guard guard{rp};
  if (!st.req.exists) {
    rp.deliver(decision_reply{make_error(errc::not_found, "no request " + id)});
    return self->quit();
  }
  if (!dedupe_key.empty())
    if (auto seen = ctx->opts.journal->find_dedupe(dedupe_key); seen && *seen) {
      rp.deliver(decision_reply{std::string(ev::to_string(st.req.state))});
      return;
    }
  auto out = decide(st.req, c, decide_context{ctx->now(), ctx->opts.retry});
  if (!out) {
    auto e = out.error();
    if (e.code == errc::conflict) e = make_error(errc::conflict, conflict_message(), "state");
    rp.deliver(decision_reply{e});
    return;
  }
  stage(self, ctx, c);
  if (!dedupe_key.empty()) st.dedupe = ev::dedupe_record{dedupe_key, dump_json(json{{"requestId", st.req.id}})};
  st.owed.emplace_back(st.req.version, rp);
  if (!st.busy) flush(self, ctx);
}

caf::behavior request_actor_fn(request_actor* self, context* ctx, std::string id, caf::actor registry) {
  auto& st = self->state;
  st.req.id = id;
  st.registry = std::move(registry);
  answer_on_exception(self, "request", [](request_actor* a) {
    auto& st = a->state;
    auto e = make_error(errc::internal, "request " + st.req.id + " failed internally; it resumes from its journal");
    if (st.submit_promise) st.submit_promise->deliver(submit_reply{e});
    st.submit_promise.reset();
    for (auto& [v, rp] : st.owed) rp.deliver(decision_reply{e});
    st.owed.clear();
  });
  ctx->live.fetch_add(1);
  self->attach_functor([ctx] { ctx->live.fetch_sub(1); });
  // Replay: rebuild exactly the state the previous incarnation had.
  auto stream = ctx->opts.journal->read_stream(ev::stream_for_request(id), 1);
  if (!stream) {
    log_error(self, "replay failed: " + stream.error().message);
    self->quit(caf::sec::runtime_error);
    return {};
  }
  for (auto& env : *stream) {
    auto e = ev::decode(env);
    if (!e) {
      log_error(self, "replay failed at sequence " + std::to_string(env.sequence) + ": " + e.error().message);
      self->quit(caf::sec::runtime_error);
      return {};
    }
    apply_in_place(st.req, *e, env.time);
  }
  st.durable_version = st.req.version;
  if (!stream->empty()) st.created_position = stream->front().global_position;
  st.last_status = status_msg{id, st.req.spec.tenant_id, st.req.state, st.req.quota_held, st.req.reserved,
                              ev::holds_slot(st.req)};
  if (auto step = current_step(st.req); step && st.req.steps[static_cast<int>(*step)].status == step_status::running)
    st.recovered = true;
  if (st.req.capacity_held) st.held_cluster = st.req.cluster_id;
  return {
      [=](submit_atom, submit_msg& msg) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        unwind_guard guard{rp};
        if (st.req.exists) {
          rp.deliver(submit_reply{make_error(errc::conflict, "request " + st.req.id + " already exists", "id")});
          return;
        }
        auto key = !msg.dedupe_key.empty()             ? msg.dedupe_key
                   : !msg.spec.idempotency_key.empty() ? dedupe_key(msg.spec)
                                                       : std::string{};
        st.dedupe_field = msg.dedupe_key.empty() ? "Idempotency-Key" : "commandId";
        if (!key.empty())
          st.dedupe = ev::dedupe_record{key, dump_json(json{{"requestId", st.req.id}, {"hash", msg.spec.request_hash}})};
        if (!stage(self, ctx, submit_request{std::move(msg.spec)})) {
          rp.deliver(submit_reply{make_error(errc::internal, "submission refused")});
          return self->quit();
        }
        st.submit_promise = rp;
        flush(self, ctx);
      },
      [=](resume_atom) { drive(self, ctx); },
      [=](decide_atom, decision_msg& m) {
        command c = m.approve ? command{approve_request{m.text}} : command{reject_request{m.text}};
        answer_command(self, ctx, m.id, c, {}, [&] {
          return std::string("request is ") + ev::to_string(self->state.req.state) + ", not PendingApproval";
        });
      },
      [=](lifecycle_atom, lifecycle_msg& m) {
        auto& r = self->state.req;
        if (r.exists && !m.tenant.empty() && m.tenant != r.spec.tenant_id) {
          self->make_response_promise().deliver(decision_reply{make_error(
              errc::invalid_argument, "request " + m.id + " belongs to another tenant, not " + m.tenant, "tenantId")});
          return;
        }
        answer_command(self, ctx, m.id, lifecycle_command{m.action}, m.dedupe_key, [&] {
          const auto& r = self->state.req;
          return m.action + " is not possible while the request is " + ev::to_string(r.state) +
                 (r.pending_action.empty() ? "" : " (a " + r.pending_action + " is in progress)");
        });
      },
      [=](complete_atom, complete_msg& m) {
        answer_command(self, ctx, m.id, std::move(m.details), {}, [&] {
          return std::string("request is ") + ev::to_string(self->state.req.state) + ", not waiting for manual input";
        });
      },
      [=](stuck_atom, step_kind step, int attempt) {
        auto& st = self->state;
        if (st.calling != std::make_pair(step, attempt)) return;  // answered in time
        st.calling.reset();
        ctx->untrack_call(st.calling_id);
        st.abandoned.insert({step, attempt});
        st.busy = false;
        auto hung = ctx->now() - st.req.steps[static_cast<int>(step)].started_at;
        auto msg = std::string(ev::to_string(step)) + " hung for " + std::to_string(hung / 60000) + "m" +
                   std::to_string(hung / 1000 % 60) + "s (limit " + std::to_string(ctx->opts.stuck_after_ms / 1000) +
                   "s) on cluster " + st.req.cluster_id + "; given up";
        log_error(self, msg);
        metrics::registry::global()
            .get_counter("provisiond_stuck_steps_total", "Provider calls given up as stuck", {{"step", ev::to_string(step)}})
            .inc();
        if (!stage(self, ctx, record_step_result{step, attempt, providers::permanent_error("stuck", msg), false}))
          return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](powerdone_atom, power_done& d) {
        self->state.busy = false;
        if (!stage(self, ctx, record_action_result{d.action, std::move(d.r)})) return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](appended_atom, append_done& d) {
        auto& st = self->state;
        st.busy = false;
        auto promise = std::move(st.submit_promise);
        st.submit_promise.reset();
        if (!d.r) {
          // The in-memory state ran ahead of the journal: drop it and let the
          // registry respawn this actor from the stream.
          log_error(self, "append failed: " + d.r.error().message);
          if (promise) promise->deliver(submit_reply{d.r.error()});
          for (auto& [v, rp] : st.owed) rp.deliver(decision_reply{d.r.error()});
          st.owed.clear();
          return self->quit(caf::sec::runtime_error);
        }
        if (d.r->duplicate_of && !promise) {
          // A lifecycle command seen before: nothing was written; the
          // in-memory state ran ahead, so start again from the stream.
          for (auto& [v, rp] : st.owed) rp.deliver(decision_reply{std::string("duplicate")});
          st.owed.clear();
          return self->quit();
        }
        if (d.r->duplicate_of) {
          auto parsed = parse_json(*d.r->duplicate_of, "dedupe record");
          json j = parsed && parsed->is_object() ? std::move(*parsed) : json::object();
          submit_outcome o;
          o.request_id = j.value("requestId", "");
          o.duplicate = true;
          result<submit_outcome> out = o;
          if (j.value("hash", "") != st.req.spec.request_hash)
            out = make_error(errc::conflict,
                             "this key was already used for request " + o.request_id + " with a different body",
                             st.dedupe_field);
          if (promise) promise->deliver(submit_reply{std::move(out)});
          return self->quit();
        }
        if (promise) {
          submit_outcome o;
          o.request_id = st.req.id;
          o.position = d.r->first_position;
          st.created_position = d.r->first_position;
          promise->deliver(submit_reply{o});
        }
        st.durable_version = d.r->last_sequence;
        std::erase_if(st.owed, [&](auto& o) {
          if (o.first > st.durable_version) return false;
          o.second.deliver(decision_reply{std::string(ev::to_string(st.req.state))});
          return true;
        });
        report_status(self);
        report_capacity(self, ctx);
        drive(self, ctx);
      },
      [=](stepdone_atom, step_done& d) {
        auto& st = self->state;
        if (st.abandoned.erase({d.step, d.attempt})) {
          // The answer of a call given up as stuck: what it created is released too.
          if (!stage(self, ctx, record_late_result{d.step, d.attempt, std::move(d.r)}))
            return self->quit(caf::sec::runtime_error);
          if (!st.busy) drive(self, ctx);
          return;
        }
        st.calling.reset();
        ctx->untrack_call(st.calling_id);
        st.busy = false;
        if (!stage(self, ctx, record_step_result{d.step, d.attempt, std::move(d.r), d.adopted}))
          return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](released_atom, release_done& d) {
        self->state.busy = false;
        if (!stage(self, ctx, record_release{d.step, std::move(d.r)})) return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](wake_atom) {
        self->state.busy = false;
        drive(self, ctx);
      },
  };
}

struct supervisor_state {
  std::string tenant;
  std::unordered_map<std::string, ev::quota_amount> reserved;
  std::unordered_set<std::string> slots;
  std::unordered_map<std::string, ev::lifecycle> states;  // for dependencies
  // A request waiting for a slot. Without a promise it is a placeholder: its
  // quota was just reserved and its slot request is on the way, so requests
  // submitted after it do not overtake it (FIFO by submission).
  struct waiter {
    waiting_request w;
    std::optional<caf::response_promise> rp;
    time_ms since = 0;
  };
  std::vector<waiter> waiting;
  caf::actor registry;
  time_ms last_active = 0;
  bool idle_check_due = false;  // a timer will ask whether it is still idle
  static inline const char* name = "tenant-supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

ev::quota_amount used(const supervisor_state& st) {
  ev::quota_amount u;
  for (auto& [id, a] : st.reserved) u = add(u, a);
  return u;
}

constexpr time_ms placeholder_grace_ms = 5000;

// Grants slots in FIFO order to requests whose dependencies are complete and
// fails those whose dependencies failed.
void pump(supervisor_actor* self, context* ctx) {
  auto& st = self->state;
  if (st.waiting.empty()) return;
  std::vector<waiting_request> ws;
  for (auto& w : st.waiting) ws.push_back(w.w);
  auto plan = plan_admission(ws, [&](const std::string& id) -> std::optional<ev::lifecycle> {
    if (auto it = st.states.find(id); it != st.states.end()) return it->second;
    if (!ctx->opts.lookup_request) return std::nullopt;
    auto s = ctx->opts.lookup_request(id);
    if (!s) return std::nullopt;
    // Only terminal states are stable enough to remember here.
    if (is_terminal(s->state)) st.states[id] = s->state;
    return s->state;
  });
  auto find = [&](const std::string& id) {
    return std::find_if(st.waiting.begin(), st.waiting.end(), [&](auto& w) { return w.w.id == id; });
  };
  // Placeholders are answered when their request asks; a failure is remembered by state.
  auto answer = [&](const std::string& id, admission_decision d) {
    auto it = find(id);
    if (it == st.waiting.end() || !it->rp) return;
    it->rp->deliver(std::move(d));
    st.waiting.erase(it);
  };
  for (auto& [id, dep] : plan.dependency_failed) {
    admission_decision d;
    d.kind = admission_decision::dependency_failed;
    d.dependency = dep;
    answer(id, d);
  }
  for (auto& id : plan.cycle) {
    admission_decision d;
    d.kind = admission_decision::dependency_failed;
    d.dependency = "cycle";
    answer(id, d);
  }
  for (auto& id : plan.ready) {
    if (static_cast<int>(st.slots.size()) >= ctx->opts.max_in_flight_per_tenant) break;
    auto it = find(id);
    if (it == st.waiting.end()) continue;
    if (!it->rp) {
      // Hold the line for an earlier request about to ask, but not forever:
      // look again once its grace period is over.
      auto age = ctx->now() - it->since;
      if (age < placeholder_grace_ms) {
        self->delayed_send(self, std::chrono::milliseconds(placeholder_grace_ms - age + 1), pump_atom::value);
        break;
      }
      continue;
    }
    st.slots.insert(id);
    admission_decision d;
    d.kind = admission_decision::admit;
    answer(id, d);
  }
}

bool idle(const supervisor_state& st) { return st.waiting.empty() && st.slots.empty(); }

// A tenant with nothing waiting and nothing in flight leaves memory after
// `supervisor_idle_ms` without a message: its reservations are rebuilt from
// the read side when it is next needed (the read side trails the journal by
// milliseconds, far less than the idle time).
void note_activity(supervisor_actor* self, context* ctx) {
  auto& st = self->state;
  st.last_active = ctx->now();
  if (!idle(st) || st.idle_check_due) return;
  st.idle_check_due = true;
  auto me = caf::actor_cast<caf::actor>(self);
  ctx->opts.timers->schedule(st.last_active + ctx->opts.supervisor_idle_ms,
                             [me] { caf::anon_send(me, idle_atom::value); });
}

// Stops the supervisor; a caller still waiting is told at once and asks again.
void stop_supervisor(supervisor_actor* self) {
  for (auto& w : self->state.waiting)
    if (w.rp) w.rp->deliver(caf::make_error(caf::sec::request_receiver_down));
  self->state.waiting.clear();
  self->quit();
}

caf::behavior supervisor_fn(supervisor_actor* self, context* ctx, std::string tenant, caf::actor registry) {
  auto& st = self->state;
  st.tenant = tenant;
  st.registry = std::move(registry);
  answer_on_exception(self, "tenant-supervisor", [](supervisor_actor* a) {
    for (auto& w : a->state.waiting)
      if (w.rp) w.rp->deliver(caf::make_error(caf::sec::runtime_error));
    a->state.waiting.clear();
  });
  ctx->live_supervisors.fetch_add(1);
  self->attach_functor([ctx] { ctx->live_supervisors.fetch_sub(1); });
  note_activity(self, ctx);
  // Rebuild from the read side: reservations and slots of this tenant's requests.
  if (ctx->opts.tenant_requests)
    for (auto& r : ctx->opts.tenant_requests(tenant)) {
      st.states[r.id] = r.state;
      if (r.quota_held) st.reserved[r.id] = r.reserved;
      if (ev::holds_slot(r)) st.slots.insert(r.id);
    }
  return {
      [=](admit_atom, admit_msg& m) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        unwind_guard guard{rp};
        st.last_active = ctx->now();
        st.states[m.id] = ev::lifecycle::queued;
        if (!m.quota_held) {
          // Phase 1: quota, then approval rules. One actor per tenant: no check-then-act race.
          if (!st.reserved.count(m.id)) {
            auto demand = demand_of(m.spec);
            auto limits = ctx->opts.rules ? ctx->opts.rules->quota(st.tenant).value_or(no_quota) : no_quota;
            auto violations = check_quota(limits, used(st), demand);
            if (!violations.empty()) {
              admission_decision d;
              d.kind = admission_decision::exceed;
              d.violations = std::move(violations);
              rp.deliver(std::move(d));
              return;
            }
            st.reserved[m.id] = demand;
          }
          admission_decision d;
          d.kind = admission_decision::reserve;
          d.amount = st.reserved[m.id];
          if (ctx->opts.rules)
            if (auto match = match_approval(ctx->opts.rules->rules(), st.tenant, m.spec))
              d.approval = ev::approval_requested{match->rule.id, match->rule.name, match->rule.priority, match->matched};
          if (!d.approval && std::none_of(st.waiting.begin(), st.waiting.end(), [&](auto& w) { return w.w.id == m.id; })) {
            st.waiting.push_back({waiting_request{m.id, m.order, m.spec.depends_on}, std::nullopt, ctx->now()});
            std::sort(st.waiting.begin(), st.waiting.end(), [](auto& a, auto& b) { return a.w.order < b.w.order; });
          }
          rp.deliver(std::move(d));
          return;
        }
        // Phase 2: a working slot, FIFO, after the dependencies.
        if (st.slots.count(m.id)) {
          admission_decision d;
          d.kind = admission_decision::admit;
          rp.deliver(std::move(d));
          return;
        }
        std::erase_if(st.waiting, [&](auto& w) { return w.w.id == m.id; });
        st.waiting.push_back({waiting_request{m.id, m.order, m.spec.depends_on}, rp, ctx->now()});
        std::sort(st.waiting.begin(), st.waiting.end(), [](auto& a, auto& b) { return a.w.order < b.w.order; });
        pump(self, ctx);
      },
      [=](status_atom, status_msg& m) {
        auto& st = self->state;
        st.states[m.id] = m.state;
        // A placeholder whose request will not ask (gated, failed) is dropped.
        if (m.state != ev::lifecycle::queued)
          std::erase_if(st.waiting, [&](auto& w) { return w.w.id == m.id && !w.rp; });
        if (m.quota_held) st.reserved[m.id] = m.reserved;
        else st.reserved.erase(m.id);
        if (m.holds_slot) st.slots.insert(m.id);
        else st.slots.erase(m.id);
        pump(self, ctx);
        note_activity(self, ctx);
      },
      [=](pump_atom) { pump(self, ctx); },
      [=](idle_atom) {
        auto& st = self->state;
        st.idle_check_due = false;
        if (!idle(st)) return;
        if (ctx->now() - st.last_active < ctx->opts.supervisor_idle_ms) return note_activity(self, ctx);
        // The registry forgets this supervisor, then tells it to stop: what it
        // routed here before that is handled first (one sender, in order).
        self->send(st.registry, idle_atom::value, st.tenant);
      },
      [=](stop_atom) { stop_supervisor(self); },
      [=](usage_atom) {
        auto& st = self->state;
        note_activity(self, ctx);
        tenant_usage u;
        u.used = used(st);
        u.in_flight = st.slots.size();
        u.waiting = static_cast<std::size_t>(std::count_if(st.waiting.begin(), st.waiting.end(), [](auto& w) { return w.rp.has_value(); }));
        u.max_in_flight = ctx->opts.max_in_flight_per_tenant;
        return usage_reply{u};
      },
  };
}

// One actor per cluster owns its capacity: reservations at placement,
// releases when a request's capacity_released is durable. Rebuilt from the
// read side when first needed; its settings come from the cluster registry.
struct cluster_state {
  std::string id;
  cluster_capacity used;
  std::unordered_map<std::string, cluster_capacity> holders;  // by request id
  static inline const char* name = "cluster";
};

using cluster_actor = caf::stateful_actor<cluster_state>;

std::optional<cluster_config> find_cluster(context* ctx, const std::string& id) {
  if (!ctx->opts.clusters) return std::nullopt;
  for (auto& c : ctx->opts.clusters())
    if (c.id == id) return c;
  return std::nullopt;
}

caf::behavior cluster_fn(cluster_actor* self, context* ctx, std::string id) {
  auto& st = self->state;
  st.id = id;
  answer_on_exception(self, "cluster", [](cluster_actor*) {});
  if (ctx->opts.cluster_holders)
    for (auto& r : ctx->opts.cluster_holders(id))
      if (r.capacity_held && r.cluster_id == id && st.holders.emplace(r.id, r.capacity).second) st.used += r.capacity;
  return {
      [=](reserve_atom, reserve_msg& m) {
        auto& st = self->state;
        if (st.holders.count(m.request_id)) return reserve_reply{};  // asked again after a restart of the request
        auto c = find_cluster(ctx, st.id);
        if (!c) return reserve_reply{"cluster was deleted"};
        if (auto why = not_accepting(*c); !why.empty()) return reserve_reply{why};
        if (auto why = shortfall(c->capacity, st.used, m.want); !why.empty()) return reserve_reply{why};
        st.holders.emplace(m.request_id, m.want);
        st.used += m.want;
        return reserve_reply{};
      },
      [=](release_atom, release_msg& m) {
        auto& st = self->state;
        auto it = st.holders.find(m.request_id);
        if (it == st.holders.end()) return;
        st.used -= it->second;
        st.holders.erase(it);
      },
      [=](clusters_atom) {
        auto& st = self->state;
        cluster_usage u;
        u.used = st.used;
        u.requests = st.holders.size();
        static const char* names[] = {"closed", "open", "half-open"};
        u.breaker = names[static_cast<int>(ctx->gate(st.id).state())];
        return cluster_usage_reply{u};
      },
  };
}

struct registry_state {
  std::unordered_map<std::string, caf::actor> live;
  std::unordered_map<std::string, caf::actor> supervisors;  // by tenant; never passivated
  std::unordered_map<std::string, caf::actor> clusters;     // by cluster id; never passivated
  std::unordered_map<std::string, int> respawns;  // per request, after errors
  std::unordered_map<caf::actor_addr, std::string> ids;
  bool stopping = false;
  static inline const char* name = "registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

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
  std::lock_guard lock{ctx->cluster_actors_mutex};
  ctx->cluster_actors.emplace(id, a);
  return a;
}

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
        self->delayed_send(self, std::chrono::milliseconds(100 << n), respawn_atom::value, id);
      } else {
        std::fprintf(stderr, "provisiond: request %s keeps failing; left as it is in the journal\n", id.c_str());
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
      [=](status_atom, status_msg& m) { self->send(supervisor_for(self, ctx, m.tenant), status_atom::value, std::move(m)); },
      [=](idle_atom, const std::string& tenant) {
        auto& sups = self->state.supervisors;
        auto it = sups.find(tenant);
        if (it == sups.end() || it->second.address() != caf::actor_cast<caf::actor_addr>(self->current_sender())) return;
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
      [=](stop_atom) {
        self->state.stopping = true;
        for (auto& [id, a] : self->state.live) self->send_exit(a, caf::exit_reason::user_shutdown);
        for (auto& [t, a] : self->state.supervisors) self->send_exit(a, caf::exit_reason::user_shutdown);
        for (auto& [c, a] : self->state.clusters) self->send_exit(a, caf::exit_reason::user_shutdown);
        {
          std::lock_guard lock{ctx->cluster_actors_mutex};
          ctx->cluster_actors.clear();
        }
        self->quit();
      },
  };
}

}  // namespace

struct engine::impl {
  std::unique_ptr<context> ctx;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor registry;
  std::atomic<bool> shut{false};
};

engine::engine(engine_options opts) : impl_(std::make_unique<impl>()) {
  if (!opts.ids) opts.ids = make_random_id_source();
  int threads = opts.scheduler_threads;
  impl_->ctx = std::make_unique<context>(std::move(opts));
  if (threads > 0) impl_->cfg.set("scheduler.max-threads", threads);
  impl_->cfg.set("logger.console", caf::atom("none"));
  impl_->sys = std::make_unique<caf::actor_system>(impl_->cfg);
  impl_->registry = impl_->sys->spawn(registry_fn, impl_->ctx.get());
  auto* ctx = impl_->ctx.get();
  ctx->opts.timers->schedule(ctx->now() + ctx->sweep_ms(), [ctx] { ctx->sweep(); });
}

engine::~engine() { shutdown(std::chrono::milliseconds(0)); }

result<submit_outcome> engine::submit(submit_command cmd) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  // dependsOn: ids of existing requests of the same tenant, each once, and no cycle.
  const auto& deps = cmd.spec.depends_on;
  if (deps.size() > 100) return make_error(errc::invalid_argument, "at most 100 dependencies", "dependsOn");
  // The read side may trail a submission made a moment ago (e.g. the Kafka
  // command before this one): let it catch up once before looking anything up.
  if (!deps.empty() && impl_->ctx->opts.sync_read_side) impl_->ctx->opts.sync_read_side();
  if (!cmd.request_id.empty()) {
    // Kahn over the new request and what it (transitively) waits for: a
    // request on a cycle could never start.
    std::vector<waiting_request> graph{{cmd.request_id, 0, deps}};
    std::vector<std::string> frontier = deps;
    std::unordered_set<std::string> seen{cmd.request_id};
    while (!frontier.empty() && graph.size() < 1000) {
      auto id = frontier.back();
      frontier.pop_back();
      if (!seen.insert(id).second || !impl_->ctx->opts.lookup_request) continue;
      auto r = impl_->ctx->opts.lookup_request(id);
      if (!r || is_terminal(r->state)) continue;
      graph.push_back({id, graph.size(), r->spec.depends_on});
      for (auto& d : r->spec.depends_on) frontier.push_back(d);
    }
    auto plan = plan_admission(graph, [](const std::string&) { return std::nullopt; });
    if (!plan.cycle.empty()) {
      std::string ids;
      for (auto& c : plan.cycle) ids += (ids.empty() ? "" : ", ") + c;
      return make_error(errc::conflict, "dependency cycle: " + ids, "dependsOn");
    }
  }
  for (std::size_t i = 0; i < deps.size(); ++i) {
    if (std::find(deps.begin(), deps.begin() + i, deps[i]) != deps.begin() + i)
      return make_error(errc::invalid_argument, "request " + deps[i] + " is listed twice", "dependsOn");
    auto& lookup = impl_->ctx->opts.lookup_request;
    auto dep = lookup ? lookup(deps[i]) : std::nullopt;
    if (!dep) return make_error(errc::invalid_argument, "unknown request id " + deps[i], "dependsOn");
    if (dep->spec.tenant_id != cmd.spec.tenant_id)
      return make_error(errc::invalid_argument, "request " + deps[i] + " belongs to another tenant", "dependsOn");
  }
  cmd.spec.request_hash = request_hash(cmd.spec);
  result<submit_outcome> out = make_error(errc::unavailable, "no reply from the engine");
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->registry, std::chrono::seconds(30), submit_atom::value, submit_msg{std::move(cmd.spec), std::move(cmd.dedupe_key), std::move(cmd.request_id)})
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

result<std::string> engine::approve(const std::string& request_id, std::string comment) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")}, decide_atom::value,
             decision_msg{request_id, true, std::move(comment)})
      .state;
}

result<std::string> engine::reject(const std::string& request_id, std::string reason) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")}, decide_atom::value,
             decision_msg{request_id, false, std::move(reason)})
      .state;
}

result<std::string> engine::lifecycle(const std::string& request_id, const std::string& action,
                                      const std::string& dedupe_key, const std::string& tenant_id) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             lifecycle_atom::value, lifecycle_msg{request_id, action, dedupe_key, tenant_id})
      .state;
}

result<std::string> engine::complete(const std::string& request_id, complete_manual details) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, decision_reply{make_error(errc::unavailable, "no reply")},
             complete_atom::value, complete_msg{request_id, std::move(details)})
      .state;
}

result<cluster_usage> engine::usage_of_cluster(const std::string& cluster_id) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, cluster_usage_reply{make_error(errc::unavailable, "no reply")},
             clusters_atom::value, cluster_id)
      .usage;
}

result<tenant_usage> engine::usage(const std::string& tenant_id) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  return ask(*impl_->sys, impl_->registry, usage_reply{make_error(errc::unavailable, "no reply")}, usage_atom::value,
             tenant_id)
      .usage;
}

void engine::resume(const std::vector<std::string>& request_ids) {
  for (auto& id : request_ids) caf::anon_send(impl_->registry, resume_atom::value, id);
}

void engine::shutdown(std::chrono::milliseconds grace) {
  if (impl_->shut.exchange(true)) return;
  auto& ctx = *impl_->ctx;
  ctx.stopping = true;
  // Let in-flight provider calls finish so their outcomes get persisted.
  ctx.pool.drain(grace);
  {
    std::lock_guard lock{ctx.gates_mutex};
    for (auto& [cluster, g] : ctx.gates) g->clear();  // their intents are settled at the next start
  }
  ctx.opts.timers->stop();
  auto deadline = std::chrono::steady_clock::now() + std::max(grace, std::chrono::milliseconds(2000));
  while (ctx.appends_in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  caf::anon_send(impl_->registry, stop_atom::value);
  impl_->registry = nullptr;
  impl_->sys->await_all_actors_done();
  // Appends still queued in the journal hold actor handles; let them finish.
  while (ctx.appends_in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->sys.reset();
}

std::size_t engine::live_actors() const { return impl_->ctx->live.load(); }

std::size_t engine::live_supervisors() const { return impl_->ctx->live_supervisors.load(); }

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
