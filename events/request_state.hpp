#pragma once
/// A request's state as the fold of its stream: apply(state, event) is pure,
/// and replaying a stream rebuilds exactly the state its actor had. Shared by
/// the request actor and the projections.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/domain_events.hpp"

namespace provisiond::events {

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
/// "Queued", "PendingApproval", ... as the API shows them (events/catalog.hpp).
const char* to_string(lifecycle s) noexcept;
std::optional<lifecycle> parse_lifecycle(std::string_view s) noexcept;
/// Completed, Failed and RolledBack: nothing more happens by itself.
bool is_terminal(lifecycle s) noexcept;


enum class step_status : std::uint8_t { pending, running, completed, failed, awaiting_manual_input };
/// "Pending", "Running", ... as the API shows them (events/catalog.hpp).
const char* to_string(step_status s) noexcept;
std::optional<step_status> parse_step_status(std::string_view s) noexcept;

struct step_state {
  step_status status = step_status::pending;
  int attempts = 0;
  std::string last_error;
  std::string idempotency_key;
  time_ms started_at = 0;
  time_ms retry_at = 0;  ///< when the next attempt is due (status failed)
  bool compensated = false;
  int first_attempt = 1;  ///< attempt number this run of the step began with (a retry starts a new run)
  /// Some attempt may have changed something at the provider: the rollback
  /// must release this step. False while every attempt failed before
  /// sending anything (see failed_before_sending).
  bool sent = false;
  bool sent_before = false;  ///< `sent` before the running attempt
};

/// Provider error codes that mean "this attempt sent nothing that could
/// change the cloud" (authentication refused at the start, bad cluster
/// settings, no provider, circuit open): such a step needs no release.
bool failed_before_sending(const std::string& code) noexcept;

struct request_state {
  std::string id;
  bool exists = false;
  std::uint64_t version = 0;  ///< last applied sequence
  request_submitted spec;
  std::string cluster_id;
  lifecycle state = lifecycle::queued;
  std::array<step_state, step_count> steps{};
  std::vector<resource_ref> resources;  ///< held now
  string_map outputs;                   ///< accumulated step outputs
  std::string failure_code;
  std::string failure_reason;
  int compensation_attempts = 0;
  time_ms compensation_retry_at = 0;
  std::string compensation_error;
  time_ms created_at = 0;
  time_ms updated_at = 0;
  // Admission (tenant supervisor).
  bool quota_held = false;  ///< reserved and not yet released
  quota_amount reserved;
  std::vector<quota_violation> violations;  ///< why admission refused it
  bool approval_pending = false;
  approval_requested approval;  ///< the rule that gated it, if any
  std::string approval_comment;
  std::string rejection_reason;
  bool admitted = false;  ///< holds (or held) a working slot
  // Service lifecycle.
  std::optional<lifecycle_action> pending_action;  ///< suspend | reactivate (requested, provider call not yet done)
  int action_attempts = 0;
  time_ms action_retry_at = 0;
  std::string action_error;
  bool deprovisioning = false;  ///< the rollback in progress is a deprovision
  bool deprovisioned = false;
  // Cluster capacity (cluster actor).
  bool capacity_held = false;  ///< reserved at placement and not yet released
  cluster_capacity capacity;   ///< what placement reserved on `cluster_id`
  std::string manual_message;  ///< what the manual provider waits for
  std::string credential_kind; ///< "password" | "privateKey" once delivered (manual complete)
};

/// The request holds one of its tenant's working slots: admitted and not yet
/// Completed, Failed or RolledBack.
bool holds_slot(const request_state& s) noexcept;

/// Folds one event into the state (in place, for replay speed).
void apply_in_place(request_state& s, const event& e, time_ms time);
/// Pure form: the state after `e`.
request_state apply(request_state s, const event& e, time_ms time);

/// The step currently being worked on (first not completed), if any.
std::optional<step_kind> current_step(const request_state& s) noexcept;

}  // namespace provisiond::events
