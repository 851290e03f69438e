#pragma once
/// The request aggregate as pure functions: apply(state, event) folds the
/// stream, decide(state, command) turns a command into events or an error,
/// next_action(state, now) says what the actor should do next. No I/O, no
/// CAF; the request actor wraps them.

#include <array>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/cluster.hpp"
#include "common/settings.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/request_state.hpp"
#include "providers/provider.hpp"

namespace provisiond::actors {

using events::step_kind;

using events::apply;
using events::apply_in_place;
using events::current_step;
using events::is_terminal;
using events::lifecycle;
using events::request_state;
using events::step_state;
using events::step_status;

/// Commands the request aggregate accepts.
struct submit_request {
  events::request_submitted spec;
};
/// Outcome of placement: a cluster, or none with the reason.
struct place_request {
  std::optional<std::string> cluster_id;
  std::string reason;
  cluster_capacity capacity;  ///< reserved on the cluster
};
/// Start the next attempt of the current step.
struct start_step {};
struct record_step_result {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  result<providers::step_outcome> outcome;
  bool adopted = false;
};
struct record_release {
  step_kind step = step_kind::allocate;
  result<std::vector<std::string>> released;
};
/// The tenant supervisor's answer to an admission request.
struct admission_decision {
  enum kind_t {
    reserve,            ///< quota reserved; `approval` set if a rule gates the request
    exceed,             ///< over quota
    admit,              ///< a working slot is granted
    dependency_failed,  ///< a prerequisite ended Failed or RolledBack
  } kind = reserve;
  events::quota_amount amount;
  std::vector<events::quota_violation> violations;
  std::optional<events::approval_requested> approval;
  std::string dependency;
};
struct record_admission {
  admission_decision decision;
};
struct approve_request {
  std::string comment;
};
struct reject_request {
  std::string reason;
};
/// suspend | reactivate | deprovision | retry, from the API or Kafka.
struct lifecycle_command {
  events::lifecycle_action action = events::lifecycle_action::suspend;
};
/// " (a suspend is in progress)" while one is, else "": for refusals.
std::string action_in_progress(const events::request_state& s);

/// The provider's answer to a suspend or reactivate call.
struct record_action_result {
  events::lifecycle_action action = events::lifecycle_action::suspend;
  status outcome;
};
/// POST /complete on a request waiting for manual input. The password or
/// key is already sealed in the secret store; `credential` names its kind.
struct complete_manual {
  std::string host;
  std::string username;
  events::string_map endpoints;
  std::string credential;
  std::string note;
};
/// A provider call given up as stuck returned after all.
struct record_late_result {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  result<providers::step_outcome> outcome;
};
using command = std::variant<submit_request, place_request, start_step, record_step_result, record_release,
                             record_admission, approve_request, reject_request, lifecycle_command,
                             record_action_result, complete_manual, record_late_result>;

struct decide_context {
  time_ms now = 0;
  retry_policy retry;
};

/// The events a command produces, or why it is refused (errc::conflict for a
/// command that does not fit the current state).
result<std::vector<events::event>> decide(const request_state& s, const command& c, const decide_context& ctx);

/// What the actor should do next.
struct action {
  enum kind_t {
    none,        ///< nothing to do (terminal, or not yet submitted)
    admit,       ///< ask the tenant supervisor (quota and rules, then a slot)
    place,       ///< choose a cluster
    start_step,  ///< persist the intent of the next attempt
    call_step,   ///< run (or settle) the running step at the provider
    release,     ///< compensate `step` at the provider
    power,       ///< stop (suspend) or start (reactivate) the service at the provider
    wait,        ///< sleep until `at`
  } kind = none;
  step_kind step = step_kind::allocate;
  time_ms at = 0;
};
action next_action(const request_state& s, time_ms now);

/// "<request-id>/<step>/<attempt>".
std::string idempotency_key(const std::string& request_id, step_kind step, int attempt);

/// The request's step waiting for manual input, if any.
std::optional<step_kind> awaiting_input(const request_state& s) noexcept;

}  // namespace provisiond::actors
