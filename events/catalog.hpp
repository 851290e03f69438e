#pragma once
/// The catalog of accepted names: every parser of a request type, provider
/// type, lifecycle state, step, step status or lifecycle action checks
/// against these lists, and every "expected one of ..." message is
/// `join_names(list)`, so a name is added in one place. Lists indexed by an
/// enum hold its names in enum order (to_string / parse_* in
/// request_state.hpp and domain_events.hpp read them).

#include <array>
#include <string_view>

#include "common/names.hpp"
#include "events/domain_events.hpp"
#include "events/request_state.hpp"

namespace provisiond::events {

using provisiond::is_one_of;
using provisiond::join_names;

/// `type` of a submission.
inline constexpr std::array<std::string_view, 5> request_types = {"vps", "private-cloud", "managed-database",
                                                                  "object-storage", "namespace"};

/// `provider` of a submission = the cluster types; the list is in common/
/// (common/names.hpp) because config files are checked there.
inline constexpr const auto& provider_types = provisiond::cluster_types;

/// The 11 lifecycle states as the API shows them; index = `lifecycle`.
inline constexpr std::array<std::string_view, 11> lifecycle_names = {
    "Queued",    "PendingApproval", "Allocating",  "Configuring", "Activating", "Verifying",
    "Completed", "Suspended",       "Failed",      "RollingBack", "RolledBack"};

/// The pipeline steps in order; index = `step_kind`.
inline constexpr std::array<std::string_view, step_count> step_names = {"allocate", "configure", "activate",
                                                                         "verify"};

/// Step statuses as the API shows them; index = `step_status`.
inline constexpr std::array<std::string_view, 5> step_status_names = {"Pending", "Running", "Completed", "Failed",
                                                                       "AwaitingManualInput"};

/// `POST /v1/requests/{id}/<action>` (and the Kafka intake's lifecycle commands).
inline constexpr std::array<std::string_view, 4> lifecycle_actions = {"suspend", "reactivate", "deprovision",
                                                                      "retry"};

static_assert(static_cast<std::size_t>(lifecycle::rolled_back) + 1 == lifecycle_names.size());
static_assert(static_cast<std::size_t>(step_kind::verify) + 1 == step_names.size());
static_assert(static_cast<std::size_t>(step_status::awaiting_manual_input) + 1 == step_status_names.size());
static_assert(static_cast<std::size_t>(lifecycle_action::retry) + 1 == lifecycle_actions.size());

}  // namespace provisiond::events
