#pragma once
/// Tenant quotas and approval rules: admin state, event-sourced in two journal
/// streams (`tenant-quotas`, `approval-rules`) and held in memory. Thread-safe;
/// writes block on the journal, so call them from request threads, never from
/// an actor.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/journal.hpp"
#include "actors/governance/admin_stream.hpp"

namespace provisiond::actors {

class governance {
 public:
  governance(std::shared_ptr<events::journal> journal, std::shared_ptr<clock> time);

  /// Replays both streams. Call once before use.
  status load();
  /// Scale-out: writes carry this token and reach the other instances
  /// (admin_stream::share). Call before use.
  void share(std::function<std::optional<std::uint64_t>()> token);
  /// Folds what the journal holds beyond what is folded (another instance's
  /// writes, restored by the replica).
  status refresh();

  /// Sets a tenant's quota (-1 = unlimited in that dimension).
  result<events::quota_amount> set_quota(const std::string& tenant_id, const events::quota_amount& limits);
  /// The tenant's quota, or nullopt when it has none (unlimited).
  std::optional<events::quota_amount> quota(const std::string& tenant_id) const;

  /// Creates a rule; the id is assigned when empty. conflict if the id exists.
  result<events::approval_rule> create_rule(events::approval_rule rule);
  /// Replaces a rule; not_found if missing. Keeps its creation time.
  result<events::approval_rule> update_rule(events::approval_rule rule);
  status delete_rule(const std::string& id);
  std::vector<events::approval_rule> rules() const;
  std::optional<events::approval_rule> rule(const std::string& id) const;

 private:
  status refresh_locked();
  void fold(const events::event& e);

  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  admin_stream quotas_stream_;
  admin_stream rules_stream_;
  std::map<std::string, events::quota_amount> quotas_;
  std::vector<events::approval_rule> rules_;  ///< in creation order
};

}  // namespace provisiond::actors
