#include "actors/request/request_logic.hpp"

#include "actors/tenant/tenant_logic.hpp"

#include <algorithm>

namespace provisiond::actors {

namespace ev = provisiond::events;

namespace {

bool is_working(lifecycle s) {
  return s == lifecycle::allocating || s == lifecycle::configuring || s == lifecycle::activating ||
         s == lifecycle::verifying;
}

}  // namespace

std::string action_in_progress(const request_state& s) {
  if (!s.pending_action) return "";
  return std::string(" (a ") + ev::to_string(*s.pending_action) + " is in progress)";
}

namespace {

error refuse(const request_state& s, const std::string& what) {
  return make_error(errc::conflict, what + " is not possible in state " + to_string(s.state));
}

// The next step to compensate: the latest started one not yet compensated
// (steps whose every attempt failed before sending anything need none).
std::optional<step_kind> compensation_step(const request_state& s) {
  for (int i = events::step_count - 1; i >= 0; --i) {
    const auto& st = s.steps[i];
    if (st.attempts > 0 && !st.compensated && st.sent) return static_cast<step_kind>(i);
  }
  return std::nullopt;
}

// Once nothing is left to release: give the capacity and the quota back and
// end the rollback (or the deprovision).
void finish_rollback(const request_state& after, std::vector<ev::event>& out) {
  if (compensation_step(after)) return;
  if (after.capacity_held) out.push_back(ev::capacity_released{after.cluster_id, after.capacity});
  if (after.deprovisioning) out.push_back(ev::deprovisioned{});
  else out.push_back(ev::rolled_back{});
  if (after.quota_held) out.push_back(ev::quota_released{after.reserved});
}

}  // namespace

std::string idempotency_key(const std::string& request_id, step_kind step, int attempt) {
  return request_id + "/" + ev::to_string(step) + "/" + std::to_string(attempt);
}

namespace {

using events_or_error = result<std::vector<ev::event>>;

events_or_error on(const request_state& s, const submit_request& c, const decide_context&) {
  if (s.exists) return make_error(errc::conflict, "request " + s.id + " already exists");
  return std::vector<ev::event>{c.spec};
}

// A request that fails before allocating anything gives its quota back at once.
void fail_before_allocating(const request_state& s, std::vector<ev::event>& out, std::string code, std::string reason) {
  out.push_back(ev::request_failed{std::move(code), std::move(reason), std::nullopt});
  if (s.quota_held) out.push_back(ev::quota_released{s.reserved});
}

events_or_error on(const request_state& s, const place_request& c, const decide_context&) {
  if (!s.exists || s.state != lifecycle::queued || !s.cluster_id.empty() || !s.admitted) return refuse(s, "placement");
  if (c.cluster_id) return std::vector<ev::event>{ev::cluster_placed{*c.cluster_id, c.reason, c.capacity}};
  std::vector<ev::event> out;
  fail_before_allocating(s, out, "no_cluster", c.reason);
  return out;
}

events_or_error on(const request_state& s, const record_admission& c, const decide_context&) {
  const auto& d = c.decision;
  if (!s.exists || s.state != lifecycle::queued) return refuse(s, "admission");
  std::vector<ev::event> out;
  switch (d.kind) {
    case admission_decision::reserve:
      if (s.quota_held) return refuse(s, "a second reservation");
      out.push_back(ev::quota_reserved{d.amount});
      if (d.approval) out.push_back(*d.approval);
      return out;
    case admission_decision::exceed:
      if (s.quota_held) return refuse(s, "a quota rejection after reservation");
      out.push_back(ev::quota_exceeded{d.violations});
      out.push_back(ev::request_failed{"quota_exceeded", describe(d.violations), std::nullopt});
      return out;
    case admission_decision::admit:
      if (!s.quota_held || s.approval_pending || s.admitted) return refuse(s, "admission to a slot");
      out.push_back(ev::request_admitted{});
      return out;
    case admission_decision::dependency_failed:
      fail_before_allocating(s, out, "dependency_failed", "dependency " + d.dependency + " failed");
      return out;
  }
  return out;
}

events_or_error on(const request_state& s, const approve_request& c, const decide_context&) {
  if (s.state != lifecycle::pending_approval) return refuse(s, "approval");
  return std::vector<ev::event>{ev::request_approved{c.comment}};
}

events_or_error on(const request_state& s, const reject_request& c, const decide_context&) {
  if (s.state != lifecycle::pending_approval) return refuse(s, "rejection");
  std::vector<ev::event> out{ev::request_rejected{c.reason}};
  fail_before_allocating(s, out, "approval_rejected", c.reason);
  return out;
}

events_or_error on(const request_state& s, const start_step&, const decide_context&) {
  auto step = current_step(s);
  bool may_start = s.exists && s.admitted && !s.cluster_id.empty() && (s.state == lifecycle::queued || is_working(s.state));
  if (!may_start || !step) return refuse(s, "starting a step");
  const auto& st = s.steps[static_cast<int>(*step)];
  if (st.status == step_status::running) return refuse(s, "starting a running step");
  int attempt = st.attempts + 1;
  return std::vector<ev::event>{ev::step_started{*step, attempt, idempotency_key(s.id, *step, attempt)}};
}

events_or_error on(const request_state& s, const record_step_result& c, const decide_context& ctx) {
  const auto& st = s.steps[static_cast<int>(c.step)];
  if (!is_working(s.state) || current_step(s) != c.step || st.status != step_status::running ||
      st.attempts != c.attempt)
    return refuse(s, std::string("a result for ") + ev::to_string(c.step) + " attempt " + std::to_string(c.attempt));
  std::vector<ev::event> out;
  if (c.outcome && c.outcome->awaiting_input) {
    auto msg = c.outcome->outputs.count("message") ? c.outcome->outputs.at("message") : "waiting for an operator";
    out.push_back(ev::manual_input_requested{c.step, msg});
    return out;
  }
  if (c.outcome) {
    for (const auto& r : c.outcome->resources) {
      auto same = [&](const ev::resource_ref& x) { return x.id == r.id; };
      if (std::none_of(s.resources.begin(), s.resources.end(), same)) out.push_back(ev::resource_allocated{r});
    }
    out.push_back(ev::step_completed{c.step, c.attempt, c.outcome->outputs, c.adopted});
    if (c.step == step_kind::verify) {
      auto endpoints = s.outputs;
      for (auto& [k, v] : c.outcome->outputs) endpoints[k] = v;
      out.push_back(ev::request_completed{std::move(endpoints)});
    }
    return out;
  }
  const auto& err = c.outcome.error();
  bool retryable = err.code == errc::retryable;
  if (retryable && c.attempt - st.first_attempt + 1 <= ctx.retry.max_retries) {
    out.push_back(ev::step_failed{c.step, c.attempt, err.field, err.message, true,
                                  ctx.now + ctx.retry.delay_for(c.attempt)});
    return out;
  }
  out.push_back(ev::step_failed{c.step, c.attempt, err.field, err.message, retryable, 0});
  std::string reason = std::string(ev::to_string(c.step)) + " failed" +
                       (retryable ? " after " + std::to_string(c.attempt - st.first_attempt + 1) + " attempts" : "") +
                       ": " + err.message;
  auto code = retryable ? "retries_exhausted" : err.field == "stuck" ? "stuck" : "step_failed";
  out.push_back(ev::request_failed{code, reason, c.step});
  out.push_back(ev::rollback_started{reason});
  auto after = s;
  for (auto& e : out) apply_in_place(after, e, ctx.now);
  finish_rollback(after, out);  // nothing reached the provider: nothing to release
  return out;
}

events_or_error on(const request_state& s, const record_release& c, const decide_context& ctx) {
  if (s.state != lifecycle::rolling_back || compensation_step(s) != c.step)
    return refuse(s, std::string("a release of ") + ev::to_string(c.step));
  std::vector<ev::event> out;
  if (!c.released) {
    int attempt = s.compensation_attempts + 1;
    // Compensations never give up: they back off up to the cap and stay visible.
    out.push_back(ev::compensation_failed{c.step, attempt, c.released.error().message,
                                          ctx.now + ctx.retry.delay_for(attempt)});
    return out;
  }
  out.push_back(ev::step_compensated{c.step, *c.released});
  finish_rollback(apply(s, out.back(), ctx.now), out);
  return out;
}

events_or_error on(const request_state& s, const lifecycle_command& c, const decide_context&) {
  using action = ev::lifecycle_action;
  bool idle = s.exists && !s.pending_action;
  bool running = s.state == lifecycle::completed || s.state == lifecycle::suspended;
  switch (c.action) {
    case action::suspend:
      if (idle && s.state == lifecycle::completed) return std::vector<ev::event>{ev::action_requested{c.action}};
      break;
    case action::reactivate:
      if (idle && s.state == lifecycle::suspended) return std::vector<ev::event>{ev::action_requested{c.action}};
      break;
    case action::deprovision:
      if (idle && running) return std::vector<ev::event>{ev::action_requested{c.action}};
      break;
    case action::retry:
      if (s.exists && (s.state == lifecycle::failed || (s.state == lifecycle::rolled_back && !s.deprovisioned)))
        return std::vector<ev::event>{ev::retry_requested{}};
      break;
  }
  return refuse(s, ev::to_string(c.action) + action_in_progress(s));
}

events_or_error on(const request_state& s, const record_action_result& c, const decide_context& ctx) {
  if (s.pending_action != c.action) return refuse(s, std::string("a result of ") + ev::to_string(c.action));
  if (c.outcome) {
    if (c.action == ev::lifecycle_action::suspend) return std::vector<ev::event>{ev::service_suspended{}};
    return std::vector<ev::event>{ev::service_reactivated{}};
  }
  int attempt = s.action_attempts + 1;
  bool again = c.outcome.error().code == errc::retryable && attempt <= ctx.retry.max_retries;
  return std::vector<ev::event>{
      ev::action_failed{c.action, attempt, c.outcome.error().message, again ? ctx.now + ctx.retry.delay_for(attempt) : 0}};
}

events_or_error on(const request_state& s, const complete_manual& c, const decide_context&) {
  auto step = awaiting_input(s);
  if (!step) return refuse(s, "completing (the request is not waiting for manual input)");
  if (c.host.empty()) return make_error(errc::invalid_argument, "required", "host");
  const auto& st = s.steps[static_cast<int>(*step)];
  ev::string_map outputs = c.endpoints;
  outputs["host"] = c.host;
  if (!c.username.empty()) outputs["username"] = c.username;
  return std::vector<ev::event>{ev::manual_input_provided{*step, c.host, c.username, c.endpoints, c.credential, c.note},
                                ev::step_completed{*step, st.attempts, std::move(outputs), false}};
}

events_or_error on(const request_state& s, const record_late_result& c, const decide_context&) {
  std::vector<ev::event> out;
  if (!c.outcome || c.outcome->resources.empty()) return out;  // nothing was created: nothing to undo
  std::vector<ev::resource_ref> fresh;
  for (const auto& r : c.outcome->resources) {
    auto same = [&](const ev::resource_ref& x) { return x.id == r.id; };
    if (std::none_of(s.resources.begin(), s.resources.end(), same)) fresh.push_back(r);
  }
  if (!fresh.empty()) out.push_back(ev::late_result_received{c.step, c.attempt, std::move(fresh)});
  return out;
}

}  // namespace

std::optional<step_kind> awaiting_input(const request_state& s) noexcept {
  auto step = current_step(s);
  if (!is_working(s.state) || !step || s.steps[static_cast<int>(*step)].status != step_status::awaiting_manual_input)
    return std::nullopt;
  return step;
}

result<std::vector<events::event>> decide(const request_state& s, const command& c, const decide_context& ctx) {
  return std::visit([&](const auto& x) { return on(s, x, ctx); }, c);
}

action next_action(const request_state& s, time_ms now) {
  if (!s.exists) return {};
  if (s.state == lifecycle::queued) {
    if (!s.quota_held || !s.admitted) return {action::admit};
    if (s.cluster_id.empty()) return {action::place};
    return {action::start_step, step_kind::allocate};
  }
  if (is_working(s.state)) {
    auto step = current_step(s);
    if (!step) return {};
    const auto& st = s.steps[static_cast<int>(*step)];
    switch (st.status) {
      case step_status::running: return {action::call_step, *step};
      case step_status::pending: return {action::start_step, *step};
      case step_status::failed:
        if (st.retry_at > now) return {action::wait, *step, st.retry_at};
        return {action::start_step, *step};
      default: return {};
    }
  }
  if ((s.state == lifecycle::completed || s.state == lifecycle::suspended) && s.pending_action) {
    if (s.action_retry_at > now) return {action::wait, step_kind::allocate, s.action_retry_at};
    return {action::power};
  }
  if (s.state == lifecycle::rolling_back) {
    auto step = compensation_step(s);
    if (!step) return {};  // decide emits rolled_back with the last compensation
    if (s.compensation_retry_at > now) return {action::wait, *step, s.compensation_retry_at};
    return {action::release, *step};
  }
  return {};
}

}  // namespace provisiond::actors
