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

#include "common/config.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "providers/provider.hpp"

namespace provisiond::actors {

using events::step_kind;

/// The 11 lifecycle states of a request.
enum class lifecycle : std::uint8_t {
  queued,
  pending_approval,
  allocating,
  configuring,
  activating,
  verifying,
  completed,
  suspended,
  failed,
  rolling_back,
  rolled_back,
};
/// "Queued", "PendingApproval", ... as the API shows them.
const char* to_string(lifecycle s) noexcept;
std::optional<lifecycle> parse_lifecycle(std::string_view s) noexcept;
/// Completed, Failed and RolledBack: nothing more happens by itself.
bool is_terminal(lifecycle s) noexcept;

enum class step_status : std::uint8_t { pending, running, completed, failed, awaiting_manual_input };
const char* to_string(step_status s) noexcept;

struct step_state {
  step_status status = step_status::pending;
  int attempts = 0;
  std::string last_error;
  std::string idempotency_key;
  time_ms started_at = 0;
  time_ms retry_at = 0;  ///< when the next attempt is due (status failed)
  bool compensated = false;
};

struct request_state {
  std::string id;
  bool exists = false;
  std::uint64_t version = 0;  ///< last applied sequence
  events::request_submitted spec;
  std::string cluster_id;
  lifecycle state = lifecycle::queued;
  std::array<step_state, events::step_count> steps{};
  std::vector<events::resource_ref> resources;  ///< held now
  events::string_map outputs;                   ///< accumulated step outputs
  std::string failure_code;
  std::string failure_reason;
  int compensation_attempts = 0;
  time_ms compensation_retry_at = 0;
  std::string compensation_error;
  time_ms created_at = 0;
  time_ms updated_at = 0;
};

/// Folds one event into the state (in place, for replay speed).
void apply_in_place(request_state& s, const events::event& e, time_ms time);
/// Pure form: the state after `e`.
request_state apply(request_state s, const events::event& e, time_ms time);

/// Commands the request aggregate accepts.
struct submit_request {
  events::request_submitted spec;
};
/// Outcome of placement: a cluster, or none with the reason.
struct place_request {
  std::optional<std::string> cluster_id;
  std::string reason;
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
using command = std::variant<submit_request, place_request, start_step, record_step_result, record_release>;

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
    place,       ///< choose a cluster
    start_step,  ///< persist the intent of the next attempt
    call_step,   ///< run (or settle) the running step at the provider
    release,     ///< compensate `step` at the provider
    wait,        ///< sleep until `at`
  } kind = none;
  step_kind step = step_kind::allocate;
  time_ms at = 0;
};
action next_action(const request_state& s, time_ms now);

/// "<request-id>/<step>/<attempt>".
std::string idempotency_key(const std::string& request_id, step_kind step, int attempt);

/// The step currently being worked on (first not completed), if any.
std::optional<step_kind> current_step(const request_state& s) noexcept;

/// Placement for this scope: type equals the requested provider,
/// region matches, the region's default first, then by id. Explains skips.
place_request place(const request_state& s, const std::vector<cluster_config>& clusters);

}  // namespace provisiond::actors
