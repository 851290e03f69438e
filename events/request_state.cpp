#include "events/request_state.hpp"

#include "events/catalog.hpp"

#include <algorithm>

namespace provisiond::events {

namespace ev = provisiond::events;

namespace {

lifecycle working_state(step_kind s) {
  switch (s) {
    case step_kind::allocate: return lifecycle::allocating;
    case step_kind::configure: return lifecycle::configuring;
    case step_kind::activate: return lifecycle::activating;
    case step_kind::verify: return lifecycle::verifying;
  }
  return lifecycle::allocating;
}

}  // namespace

// The catalog's names are string literals, so data() is NUL-terminated.
const char* to_string(lifecycle s) noexcept { return lifecycle_names[static_cast<int>(s)].data(); }

std::optional<lifecycle> parse_lifecycle(std::string_view s) noexcept {
  for (std::size_t i = 0; i < lifecycle_names.size(); ++i)
    if (s == lifecycle_names[i]) return static_cast<lifecycle>(i);
  return std::nullopt;
}

const char* to_string(lifecycle_action a) noexcept { return lifecycle_actions[static_cast<int>(a)].data(); }

std::optional<lifecycle_action> parse_lifecycle_action(std::string_view s) noexcept {
  for (std::size_t i = 0; i < lifecycle_actions.size(); ++i)
    if (s == lifecycle_actions[i]) return static_cast<lifecycle_action>(i);
  return std::nullopt;
}

bool is_terminal(lifecycle s) noexcept {
  return s == lifecycle::completed || s == lifecycle::failed || s == lifecycle::rolled_back;
}

const char* to_string(step_status s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < step_status_names.size() ? step_status_names[i].data() : step_status_names[0].data();
}

std::optional<step_status> parse_step_status(std::string_view s) noexcept {
  for (std::size_t i = 0; i < step_status_names.size(); ++i)
    if (s == step_status_names[i]) return static_cast<step_status>(i);
  return std::nullopt;
}

bool failed_before_sending(const std::string& code) noexcept {
  return code == "unauthenticated" || code == "config" || code == "no_provider" || code == "circuit_open";
}

bool holds_slot(const request_state& s) noexcept {
  return s.admitted && s.state != lifecycle::completed && s.state != lifecycle::failed &&
         s.state != lifecycle::rolled_back && s.state != lifecycle::suspended;
}

std::optional<step_kind> current_step(const request_state& s) noexcept {
  for (int i = 0; i < events::step_count; ++i)
    if (s.steps[i].status != step_status::completed) return static_cast<step_kind>(i);
  return std::nullopt;
}

void apply_in_place(request_state& s, const events::event& e, time_ms time) {
  ++s.version;
  s.updated_at = time;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ev::request_submitted>) {
          s.exists = true;
          s.spec = x;
          s.state = lifecycle::queued;
          s.created_at = time;
        } else if constexpr (std::is_same_v<T, ev::cluster_placed>) {
          s.cluster_id = x.cluster_id;
          s.capacity = x.capacity;
          s.capacity_held = true;
        } else if constexpr (std::is_same_v<T, ev::capacity_released>) {
          s.capacity_held = false;
        } else if constexpr (std::is_same_v<T, ev::manual_input_requested>) {
          s.steps[static_cast<int>(x.step)].status = step_status::awaiting_manual_input;
          s.manual_message = x.message;
        } else if constexpr (std::is_same_v<T, ev::manual_input_provided>) {
          s.manual_message.clear();
          s.credential_kind = x.credential;
        } else if constexpr (std::is_same_v<T, ev::late_result_received>) {
          bool fresh = false;
          for (auto& r : x.resources) {
            auto same = [&](const ev::resource_ref& y) { return y.id == r.id; };
            if (std::any_of(s.resources.begin(), s.resources.end(), same)) continue;
            s.resources.push_back(r);
            fresh = true;
          }
          if (fresh) {
            // Release the step again; a finished rollback opens once more.
            s.steps[static_cast<int>(x.step)].compensated = false;
            s.steps[static_cast<int>(x.step)].sent = true;
            if (s.state == lifecycle::rolled_back) {
              s.state = lifecycle::rolling_back;
              s.compensation_attempts = 0;
              s.compensation_retry_at = 0;
            }
          }
        } else if constexpr (std::is_same_v<T, ev::step_started>) {
          auto& st = s.steps[static_cast<int>(x.step)];
          st.status = step_status::running;
          st.attempts = x.attempt;
          st.idempotency_key = x.idempotency_key;
          st.started_at = time;
          st.retry_at = 0;
          st.sent_before = st.sent;
          st.sent = true;
          s.state = working_state(x.step);
        } else if constexpr (std::is_same_v<T, ev::resource_allocated>) {
          auto same = [&](const ev::resource_ref& r) { return r.id == x.resource.id; };
          if (std::none_of(s.resources.begin(), s.resources.end(), same)) s.resources.push_back(x.resource);
        } else if constexpr (std::is_same_v<T, ev::step_completed>) {
          auto& st = s.steps[static_cast<int>(x.step)];
          st.status = step_status::completed;
          for (auto& [k, v] : x.outputs) s.outputs[k] = v;
        } else if constexpr (std::is_same_v<T, ev::step_failed>) {
          auto& st = s.steps[static_cast<int>(x.step)];
          st.status = step_status::failed;
          st.last_error = x.message;
          st.retry_at = x.retry_at;
          if (failed_before_sending(x.code)) st.sent = st.sent_before;
        } else if constexpr (std::is_same_v<T, ev::request_completed>) {
          s.state = lifecycle::completed;
        } else if constexpr (std::is_same_v<T, ev::request_failed>) {
          s.state = lifecycle::failed;
          s.failure_code = x.code;
          s.failure_reason = x.reason;
        } else if constexpr (std::is_same_v<T, ev::rollback_started>) {
          s.state = lifecycle::rolling_back;
          s.compensation_attempts = 0;
          s.compensation_retry_at = 0;
        } else if constexpr (std::is_same_v<T, ev::step_compensated>) {
          s.steps[static_cast<int>(x.step)].compensated = true;
          std::erase_if(s.resources, [&](const ev::resource_ref& r) { return r.step == x.step; });
          s.compensation_attempts = 0;
          s.compensation_retry_at = 0;
          s.compensation_error.clear();
        } else if constexpr (std::is_same_v<T, ev::compensation_failed>) {
          s.compensation_attempts = x.attempt;
          s.compensation_retry_at = x.retry_at;
          s.compensation_error = x.message;
        } else if constexpr (std::is_same_v<T, ev::rolled_back>) {
          s.state = lifecycle::rolled_back;
        } else if constexpr (std::is_same_v<T, ev::quota_reserved>) {
          s.quota_held = true;
          s.reserved = x.amount;
        } else if constexpr (std::is_same_v<T, ev::quota_released>) {
          s.quota_held = false;
        } else if constexpr (std::is_same_v<T, ev::quota_exceeded>) {
          s.violations = x.violations;
        } else if constexpr (std::is_same_v<T, ev::approval_requested>) {
          s.state = lifecycle::pending_approval;
          s.approval_pending = true;
          s.approval = x;
        } else if constexpr (std::is_same_v<T, ev::request_approved>) {
          s.state = lifecycle::queued;
          s.approval_pending = false;
          s.approval_comment = x.comment;
        } else if constexpr (std::is_same_v<T, ev::request_rejected>) {
          s.approval_pending = false;
          s.rejection_reason = x.reason;
        } else if constexpr (std::is_same_v<T, ev::request_admitted>) {
          s.admitted = true;
        } else if constexpr (std::is_same_v<T, ev::action_requested>) {
          s.action_attempts = 0;
          s.action_retry_at = 0;
          s.action_error.clear();
          if (x.action == lifecycle_action::deprovision) {
            // Release everything that was ever started, latest step first.
            s.deprovisioning = true;
            s.state = lifecycle::rolling_back;
            s.compensation_attempts = 0;
            s.compensation_retry_at = 0;
            for (auto& st : s.steps) st.compensated = false;
          } else {
            s.pending_action = x.action;
          }
        } else if constexpr (std::is_same_v<T, ev::service_suspended>) {
          s.state = lifecycle::suspended;
          s.pending_action.reset();
        } else if constexpr (std::is_same_v<T, ev::service_reactivated>) {
          s.state = lifecycle::completed;
          s.pending_action.reset();
        } else if constexpr (std::is_same_v<T, ev::action_failed>) {
          s.action_attempts = x.attempt;
          s.action_retry_at = x.retry_at;
          s.action_error = x.message;
          if (x.retry_at == 0) s.pending_action.reset();  // given up; the state is unchanged
        } else if constexpr (std::is_same_v<T, ev::deprovisioned>) {
          s.state = lifecycle::rolled_back;
          s.deprovisioning = false;
          s.deprovisioned = true;
        } else if constexpr (std::is_same_v<T, ev::retry_requested>) {
          s.state = lifecycle::queued;
          s.failure_code.clear();
          s.failure_reason.clear();
          s.violations.clear();
          s.cluster_id.clear();
          s.admitted = false;
          s.resources.clear();
          s.outputs.clear();
          s.compensation_attempts = 0;
          s.compensation_retry_at = 0;
          s.compensation_error.clear();
          s.approval = {};  // rules are evaluated anew at admission
          s.approval_pending = false;
          s.approval_comment.clear();
          s.rejection_reason.clear();
          // Attempts keep counting, so new idempotency keys never repeat old ones.
          for (auto& st : s.steps) {
            st.status = step_status::pending;
            st.compensated = false;
            st.retry_at = 0;
            st.first_attempt = st.attempts + 1;
            st.sent = st.sent_before = false;  // everything was released
          }
        }
      },
      e);
}

request_state apply(request_state s, const events::event& e, time_ms time) {
  apply_in_place(s, e, time);
  return s;
}

}  // namespace provisiond::events
