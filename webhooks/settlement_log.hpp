#pragma once
/// The journal side of webhook outcomes: `webhook_delivery_settled` appended
/// to the tenant's stream `webhook-deliveries-<tenant>`, whose one writer is
/// the instance that delivers for the tenant. Scaled out (`fencing` set) the
/// append carries the tenant partition's token and goes to the changelog, so
/// the other instances fold it. Thread-safe. Internal to webhooks/.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/journal.hpp"
#include "webhooks/deliveries.hpp"

namespace provisiond::webhooks {

class settlement_log {
 public:
  using fencing_fn = std::function<std::optional<std::uint64_t>(const std::string& tenant)>;
  settlement_log(std::shared_ptr<events::journal> journal, std::shared_ptr<clock> time, fencing_fn fencing);

  /// Records that `d` ended (its status and attempts). fenced when the
  /// tenant's partition is not owned here any more.
  status append(const delivery& d);

 private:
  result<std::uint64_t> head_of(const std::string& stream);

  std::shared_ptr<events::journal> journal_;
  std::shared_ptr<clock> clock_;
  fencing_fn fencing_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::uint64_t> heads_;  ///< stream → last sequence written or seen
};

}  // namespace provisiond::webhooks
