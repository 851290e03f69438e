#include "actors/engine.hpp"

#include <atomic>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/detail/io_pool.hpp"
#include "actors/request_logic.hpp"
#include "events/codec.hpp"

namespace provisiond::actors {
namespace {

namespace ev = provisiond::events;

struct submit_msg {
  ev::request_submitted spec;
  std::string dedupe_key;
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

}  // namespace
}  // namespace provisiond::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::submit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::submit_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::append_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::step_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::release_done)

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

using nlohmann::json;

/// Everything request actors share. Outlives every actor.
struct context {
  engine_options opts;
  detail::io_pool pool;
  std::atomic<bool> stopping{false};
  std::atomic<int> appends_in_flight{0};
  std::atomic<std::size_t> live{0};

  explicit context(engine_options o) : opts(std::move(o)), pool(std::max(1, opts.provider_threads)) {}
  time_ms now() const { return opts.time->now(); }
};

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
  static inline const char* name = "request";
};

using request_actor = caf::stateful_actor<request_actor_state>;

void drive(request_actor* self, context* ctx);

void log_error(const request_actor* self, const std::string& what) {
  std::fprintf(stderr, "provisiond: request %s: %s\n", self->state.req.id.c_str(), what.c_str());
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

// Runs a provider call on the I/O pool and sends `make(result)` back.
template <class Fn>
void on_pool(request_actor* self, context* ctx, Fn fn) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.busy = true;
  if (!ctx->pool.post([me, fn = std::move(fn)]() mutable { fn(me); })) self->state.busy = false;
}

void call_step(request_actor* self, context* ctx, step_kind step) {
  auto& st = self->state;
  auto prov = ctx->opts.providers->find(st.req.spec.provider);
  auto call = make_call(st.req, step);
  bool settle = st.recovered;
  st.recovered = false;
  on_pool(self, ctx, [prov, call, settle](caf::actor& me) {
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
    caf::anon_send(me, stepdone_atom::value, step_done{call.step, call.attempt, std::move(r), adopted});
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
  on_pool(self, ctx, [prov, call](caf::actor& me) {
    result<std::vector<std::string>> r = std::vector<std::string>{};  // no provider: nothing was created
    if (prov) {
      try {
        r = prov->release(call);
      } catch (const std::exception& e) {
        r = providers::retryable_error("provider_exception", e.what());
      }
    }
    caf::anon_send(me, released_atom::value, release_done{call.step, std::move(r)});
  });
}

void drive(request_actor* self, context* ctx) {
  auto& st = self->state;
  for (int guard = 0; !st.busy && guard < 64; ++guard) {
    bool stopping = ctx->stopping.load();
    auto a = next_action(st.req, ctx->now());
    if (stopping && (a.kind == action::place || a.kind == action::start_step)) a.kind = action::none;
    switch (a.kind) {
      case action::place:
        if (!stage(self, ctx, place(st.req, ctx->opts.clusters))) return self->quit(caf::sec::runtime_error);
        continue;
      case action::start_step:
        if (!stage(self, ctx, start_step{})) return self->quit(caf::sec::runtime_error);
        continue;
      default: break;
    }
    if (!st.pending.empty()) return flush(self, ctx);
    if (stopping) return;
    switch (a.kind) {
      case action::call_step: return call_step(self, ctx, a.step);
      case action::release: return call_release(self, ctx, a.step);
      case action::wait: {
        st.busy = true;
        auto me = caf::actor_cast<caf::actor>(self);
        ctx->opts.timers->schedule(a.at, [me] { caf::anon_send(me, wake_atom::value); });
        return;
      }
      default:
        // Nothing left to do: passivate. The stream holds everything.
        if (st.req.exists && is_terminal(st.req.state)) self->quit();
        return;
    }
  }
}

caf::behavior request_actor_fn(request_actor* self, context* ctx, std::string id) {
  auto& st = self->state;
  st.req.id = id;
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
  if (auto step = current_step(st.req); step && st.req.steps[static_cast<int>(*step)].status == step_status::running)
    st.recovered = true;
  return {
      [=](submit_atom, submit_msg& msg) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        if (st.req.exists) {
          rp.deliver(submit_reply{make_error(errc::conflict, "request already exists")});
          return;
        }
        auto key = !msg.dedupe_key.empty()             ? msg.dedupe_key
                   : !msg.spec.idempotency_key.empty() ? dedupe_key(msg.spec)
                                                       : std::string{};
        st.dedupe_field = msg.dedupe_key.empty() ? "Idempotency-Key" : "commandId";
        if (!key.empty())
          st.dedupe = ev::dedupe_record{key, json{{"requestId", st.req.id}, {"hash", msg.spec.request_hash}}.dump()};
        if (!stage(self, ctx, submit_request{std::move(msg.spec)})) {
          rp.deliver(submit_reply{make_error(errc::internal, "submission refused")});
          return self->quit();
        }
        st.submit_promise = rp;
        flush(self, ctx);
      },
      [=](resume_atom) { drive(self, ctx); },
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
          return self->quit(caf::sec::runtime_error);
        }
        if (d.r->duplicate_of) {
          auto j = json::parse(*d.r->duplicate_of, nullptr, false);
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
          promise->deliver(submit_reply{o});
        }
        st.durable_version = d.r->last_sequence;
        drive(self, ctx);
      },
      [=](stepdone_atom, step_done& d) {
        self->state.busy = false;
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

struct registry_state {
  std::unordered_map<std::string, caf::actor> live;
  std::unordered_map<std::string, int> respawns;  // per request, after errors
  std::unordered_map<caf::actor_addr, std::string> ids;
  bool stopping = false;
  static inline const char* name = "registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

caf::actor spawn_request(registry_actor* self, context* ctx, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.live.find(id); it != st.live.end()) return it->second;
  auto a = self->spawn(request_actor_fn, ctx, id);
  self->monitor(a);
  st.live.emplace(id, a);
  st.ids.emplace(a.address(), id);
  return a;
}

caf::behavior registry_fn(registry_actor* self, context* ctx) {
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
        auto id = ctx->opts.ids->next_request_id().str();
        auto a = spawn_request(self, ctx, id);
        return self->delegate(a, submit_atom::value, std::move(msg));
      },
      [=](resume_atom, const std::string& id) {
        if (self->state.stopping) return;
        auto a = spawn_request(self, ctx, id);
        self->send(a, resume_atom::value);
      },
      [=](respawn_atom, const std::string& id) {
        if (self->state.stopping) return;
        auto a = spawn_request(self, ctx, id);
        self->send(a, resume_atom::value);
      },
      [=](stop_atom) {
        self->state.stopping = true;
        for (auto& [id, a] : self->state.live) self->send_exit(a, caf::exit_reason::user_shutdown);
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
}

engine::~engine() { shutdown(std::chrono::milliseconds(0)); }

result<submit_outcome> engine::submit(submit_command cmd) {
  if (impl_->ctx->stopping.load()) return make_error(errc::unavailable, "provisiond is shutting down");
  cmd.spec.request_hash = request_hash(cmd.spec);
  result<submit_outcome> out = make_error(errc::unavailable, "no reply from the engine");
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->registry, std::chrono::seconds(30), submit_atom::value, submit_msg{std::move(cmd.spec), std::move(cmd.dedupe_key)})
      .receive([&](submit_reply& r) { out = std::move(r.outcome); },
               [&](caf::error& e) { out = make_error(errc::unavailable, impl_->sys->render(e)); });
  return out;
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
