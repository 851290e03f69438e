#pragma once
/// One admin stream (the cluster registry, tenant quotas, approval rules) as
/// the class that folds it reads and writes it: appends expect the version
/// folded so far, and `unread` hands over what the journal holds beyond it.
///
/// Scale-out (`share`): the stream lives on the partition of
/// `admin_partition_key`, whose owner is its one writer. Appends carry that
/// partition's fencing token and go to the changelog; without the token the
/// write is refused (errc::fenced: the gateway forwards admin writes to the
/// owner). Other instances fold the owner's events as their replica
/// restores them (`unread`, from the replica's hook).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/journal.hpp"

namespace provisiond::actors {

class admin_stream {
 public:
  admin_stream(std::shared_ptr<events::journal> journal, std::string name);

  /// The partition token while this instance writes admin state (nullopt: another instance does).
  void share(std::function<std::optional<std::uint64_t>()> token) { token_ = std::move(token); }
  bool shared() const noexcept { return static_cast<bool>(token_); }

  /// The stream's events after the version folded so far, decoded; the
  /// version moves past them. Not thread-safe: call under the owner's lock.
  result<std::vector<events::event>> unread();
  /// Appends one event at the folded version. conflict if the stream moved
  /// (fold `unread` first); fenced when shared and not the writer now.
  status append(const events::event& e, time_ms now);
  std::uint64_t version() const noexcept { return version_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::shared_ptr<events::journal> journal_;
  std::string name_;
  std::uint64_t version_ = 0;
  std::function<std::optional<std::uint64_t>()> token_;
};

}  // namespace provisiond::actors
