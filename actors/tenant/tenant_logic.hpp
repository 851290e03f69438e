#pragma once
/// Pure admission logic of the tenant supervisor: quota checks, approval rule
/// matching and dependency ordering (Kahn's algorithm). No I/O, no CAF.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/domain_events.hpp"
#include "events/request_state.hpp"

namespace provisiond::actors {

using events::approval_rule;
using events::quota_amount;
using events::quota_violation;

/// No limit in a quota dimension.
inline constexpr int unlimited = -1;
inline constexpr quota_amount no_quota{unlimited, unlimited, unlimited, unlimited};

/// What one request reserves: one instance plus its resources.
quota_amount demand_of(const events::request_submitted& spec) noexcept;

/// Every dimension where used + demand would pass the limit.
std::vector<quota_violation> check_quota(const quota_amount& limits, const quota_amount& used,
                                         const quota_amount& demand);

/// "quota exceeded: cpu 32 requested, 8 used, limit 16; ..."
std::string describe(const std::vector<quota_violation>& violations);

quota_amount add(quota_amount a, const quota_amount& b) noexcept;

struct rule_match {
  approval_rule rule;
  std::vector<std::string> matched;  ///< the conditions that held
};

/// The rule that gates this request, if any: enabled rules of the tenant and
/// global ones, highest priority first; on a tie a tenant rule beats a global
/// one, then the older rule. All conditions a rule sets must hold.
std::optional<rule_match> match_approval(const std::vector<approval_rule>& rules, const std::string& tenant_id,
                                         const events::request_submitted& spec);

struct waiting_request {
  std::string id;
  std::uint64_t order = 0;  ///< journal position of its submission: FIFO
  std::vector<std::string> depends_on;
};

struct admission_plan {
  std::vector<std::string> ready;                                      ///< may start now, in FIFO order
  std::vector<std::pair<std::string, std::string>> dependency_failed;  ///< (request, failed dependency)
  std::vector<std::string> cycle;                                      ///< requests on a dependency cycle (never ready)
};

/// Orders the waiting requests by Kahn's algorithm over their dependencies.
/// `state_of` gives the state of a request that is not waiting (nullopt: unknown).
admission_plan plan_admission(const std::vector<waiting_request>& waiting,
                              const std::function<std::optional<events::lifecycle>(const std::string&)>& state_of);

}  // namespace provisiond::actors
