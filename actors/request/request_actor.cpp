// The request actor's behaviour: replay, the fold of decisions into events,
// appends, admission, and the answers to operators' commands.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/detail/last_line.hpp"
#include "actors/detail/scheduling.hpp"
#include "actors/request/request_actor.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/codec.hpp"

namespace provisiond::actors::detail {

using nlohmann::json;

namespace {

std::string dedupe_key(const ev::request_submitted& spec) {
  return "idem/" + spec.tenant_id + "/" + spec.idempotency_key;
}

// The answer to a submission whose key was recorded before: the request it
// made, or 409 naming `field` when this body differs from that one.
result<submit_outcome> duplicate_outcome(const std::string& record, const std::string& hash,
                                         const std::string& field) {
  auto parsed = parse_json(record, "dedupe record");
  json j = parsed && parsed->is_object() ? std::move(*parsed) : json::object();
  submit_outcome o;
  o.request_id = request_id{j.value("requestId", "")};
  o.duplicate = true;
  if (j.value("hash", "") != hash)
    return make_error(errc::conflict,
                      "this key was already used for request " + o.request_id.str() + " with a different body", field);
  return o;
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

log::fields request_fields(const ev::request_state& r) {
  return log::fields{}.request(r.id).tenant(r.spec.tenant_id).cluster(r.cluster_id);
}

std::string retry_text(time_ms retry_at, time_ms now) {
  if (retry_at == 0) return "; not retried";
  return "; again in " + std::to_string(std::max<time_ms>(0, retry_at - now)) + " ms";
}

// One line for what an operator may have to look at (failures, rollbacks,
// a person awaited); the happy path is in the events. Event fields only,
// which never hold a secret; a manual delivery is named by its kind. Kept
// with the event and written once it is appended (never for an event that
// was not).
void note(const ev::request_state& r, const ev::event& e, time_ms now, std::vector<event_note>& out) {
  auto f = request_fields(r);
  auto head = "request " + r.id;
  auto add = [&](log::level l, std::string message, const log::fields& fields) {
    out.push_back(event_note{l, std::move(message), fields});
  };
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ev::step_failed>) {
          add(log::level::warn,
              head + ": " + ev::to_string(x.step) + " attempt " + std::to_string(x.attempt) + " failed (" + x.code +
                  "): " + x.message + retry_text(x.retry_at, now),
              f.with("step", ev::to_string(x.step)).with("code", x.code));
        } else if constexpr (std::is_same_v<T, ev::request_failed>) {
          add(log::level::warn, head + " failed (" + x.code + "): " + x.reason, f.with("code", x.code));
        } else if constexpr (std::is_same_v<T, ev::rollback_started>) {
          add(log::level::info, head + ": rollback started: " + x.reason, f);
        } else if constexpr (std::is_same_v<T, ev::compensation_failed>) {
          add(log::level::warn,
              head + ": release of " + ev::to_string(x.step) + " failed: " + x.message + retry_text(x.retry_at, now),
              f.with("step", ev::to_string(x.step)));
        } else if constexpr (std::is_same_v<T, ev::rolled_back>) {
          add(log::level::info, head + " rolled back", f);
        } else if constexpr (std::is_same_v<T, ev::deprovisioned>) {
          add(log::level::info, head + " deprovisioned", f);
        } else if constexpr (std::is_same_v<T, ev::action_failed>) {
          add(log::level::warn,
              head + ": " + ev::to_string(x.action) + " attempt " + std::to_string(x.attempt) +
                  " failed: " + x.message + retry_text(x.retry_at, now),
              f.with("action", ev::to_string(x.action)));
        } else if constexpr (std::is_same_v<T, ev::manual_input_requested>) {
          add(log::level::info, head + " waits for an operator (" + ev::to_string(x.step) + "): " + x.message,
              f.with("step", ev::to_string(x.step)));
        } else if constexpr (std::is_same_v<T, ev::manual_input_provided>) {
          add(log::level::info, head + ": access details delivered (" + x.credential + ")",
              f.with("step", ev::to_string(x.step)));
        } else if constexpr (std::is_same_v<T, ev::late_result_received>) {
          add(log::level::warn,
              head + ": " + ev::to_string(x.step) + " attempt " + std::to_string(x.attempt) +
                  " answered after it was given up; what it made is released too",
              f.with("step", ev::to_string(x.step)));
        }
      },
      e);
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
            send_after(ctx, caf::actor_cast<caf::actor>(self), 1000, wake_atom::value);
          });
}

// Tells the tenant supervisor what changed (state, quota, slot).
void report_status(request_actor* self) {
  auto& st = self->state;
  if (!st.req.exists) return;
  status_msg m{st.req.id,         st.req.spec.tenant_id, st.req.state,
               st.req.quota_held, st.req.reserved,       ev::holds_slot(st.req)};
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

}  // namespace

void log_error(const request_actor* self, const std::string& what) {
  log::error("request " + self->state.req.id + ": " + what, request_fields(self->state.req));
}

void log_warn(const request_actor* self, const std::string& what) {
  log::warn("request " + self->state.req.id + ": " + what, request_fields(self->state.req));
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
    note(st.req, e, now, st.notes);
    st.pending.push_back(std::move(e));
  }
  return true;
}

void flush(request_actor* self, context* ctx) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  auto token = ctx->token_for(st.req.spec.tenant_id);
  if (!token) {
    // Another instance owns the tenant now: nothing of this is written.
    context::count_refusal();
    st.pending.clear();
    st.notes.clear();
    st.busy = true;
    caf::anon_send(me, appended_atom::value, append_done{context::not_owner(st.req.spec.tenant_id)});
    return;
  }
  ev::append_request req;
  req.fencing_token = *token;
  req.stream = ev::stream_for_request(st.req.id);
  req.expected_sequence = st.durable_version;
  auto now = ctx->now();
  for (auto& e : st.pending) req.events.push_back(ev::make_pending(e, now));
  req.dedupe = std::move(st.dedupe);
  st.dedupe.reset();
  st.pending.clear();
  st.notes_appending = std::move(st.notes);
  st.notes.clear();
  st.busy = true;
  ctx->appends_in_flight.fetch_add(1);
  ctx->opts.journal->append_async(std::move(req), [me, ctx](result<ev::append_result> r) {
    caf::anon_send(me, appended_atom::value, append_done{std::move(r)});
    ctx->appends_in_flight.fetch_sub(1);
  });
}

// Runs next_action until the actor waits for something (an append, a
// provider call, a timer, a command) or passivates.
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
          send_at(ctx, registry, a.at, resume_atom::value, id);
          return passivate(self);
        }
        st.busy = true;
        send_at(ctx, caf::actor_cast<caf::actor>(self), a.at, wake_atom::value);
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
  st.last_status =
      status_msg{id, st.req.spec.tenant_id, st.req.state, st.req.quota_held, st.req.reserved, ev::holds_slot(st.req)};
  if (auto step = current_step(st.req); step && st.req.steps[static_cast<int>(*step)].status == step_status::running)
    st.recovered = true;
  if (st.req.capacity_held) st.held_cluster = st.req.cluster_id;
  return {
      [=](submit_atom, submit_msg& msg) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        unwind_guard guard{rp};
        auto key = !msg.dedupe_key.empty()             ? msg.dedupe_key
                   : !msg.spec.idempotency_key.empty() ? dedupe_key(msg.spec)
                                                       : std::string{};
        std::string field = msg.dedupe_key.empty() ? "Idempotency-Key" : "commandId";
        if (st.req.exists) {
          // The same submission again (its key recorded for this request):
          // answered as the first time, not as a clash of chosen ids.
          if (!key.empty())
            if (auto seen = ctx->opts.journal->find_dedupe(key); seen && *seen) {
              auto out = duplicate_outcome(**seen, msg.spec.request_hash, field);
              if (!out || out->request_id.str() == st.req.id) {
                rp.deliver(submit_reply{std::move(out)});
                return;
              }
            }
          rp.deliver(submit_reply{make_error(errc::conflict, "request " + st.req.id + " already exists", "id")});
          return;
        }
        st.dedupe_field = field;
        if (!key.empty())
          st.dedupe =
              ev::dedupe_record{key, dump_json(json{{"requestId", st.req.id}, {"hash", msg.spec.request_hash}})};
        if (!stage(self, ctx, submit_request{std::move(msg.spec)})) {
          rp.deliver(submit_reply{make_error(errc::internal, "submission refused")});
          return self->quit();
        }
        st.submit_promise = rp;
        flush(self, ctx);
      },
      [=](resume_atom) { drive(self, ctx); },
      [=](evict_atom, const evict_msg& m) {
        auto& st = self->state;
        if (!st.req.exists || !m.which(tenant_id{st.req.spec.tenant_id})) return;
        auto e = context::not_owner(st.req.spec.tenant_id);
        if (st.submit_promise) st.submit_promise->deliver(submit_reply{e});
        st.submit_promise.reset();
        for (auto& [v, rp] : st.owed) rp.deliver(decision_reply{e});
        st.owed.clear();
        self->quit();
      },
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
          return ev::to_string(m.action) + std::string(" is not possible while the request is ") +
                 ev::to_string(r.state) + action_in_progress(r);
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
        ctx->watchdog.untrack(st.calling_id);
        st.abandoned.insert({step, attempt});
        st.busy = false;
        auto hung = ctx->now() - st.req.steps[static_cast<int>(step)].started_at;
        auto msg = std::string(ev::to_string(step)) + " hung for " + std::to_string(hung / 60000) + "m" +
                   std::to_string(hung / 1000 % 60) + "s (limit " + std::to_string(ctx->opts.stuck_after_ms / 1000) +
                   "s) on cluster " + st.req.cluster_id + "; given up";
        log_error(self, msg);
        metrics::registry::global()
            .get_counter("provisiond_stuck_steps_total", "Provider calls given up as stuck",
                         {{"step", ev::to_string(step)}})
            .inc();
        if (!stage(self, ctx, record_step_result{step, attempt, providers::permanent_error("stuck", msg), false}))
          return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](powerdone_atom, power_done& d) {
        self->state.busy = false;
        if (!stage(self, ctx, record_action_result{d.action, std::move(d.r)}))
          return self->quit(caf::sec::runtime_error);
        drive(self, ctx);
      },
      [=](appended_atom, append_done& d) {
        auto& st = self->state;
        st.busy = false;
        auto promise = std::move(st.submit_promise);
        st.submit_promise.reset();
        auto notes = std::move(st.notes_appending);
        st.notes_appending.clear();
        if (d.r && !d.r->duplicate_of)
          for (auto& n : notes) log::write(n.level, n.message, n.fields);
        if (!d.r) {
          if (promise) promise->deliver(submit_reply{d.r.error()});
          for (auto& [v, rp] : st.owed) rp.deliver(decision_reply{d.r.error()});
          st.owed.clear();
          // Fenced: the tenant's new owner carries on; this one just stops.
          if (d.r.error().code == errc::fenced) return self->quit();
          // The in-memory state ran ahead of the journal: drop it and let the
          // registry respawn this actor from the stream.
          log_error(self, "append failed: " + d.r.error().message);
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
          if (promise)
            promise->deliver(
                submit_reply{duplicate_outcome(*d.r->duplicate_of, st.req.spec.request_hash, st.dedupe_field)});
          return self->quit();
        }
        if (promise) {
          submit_outcome o;
          o.request_id = request_id{st.req.id};
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
        ctx->watchdog.untrack(st.calling_id);
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

}  // namespace provisiond::actors::detail
