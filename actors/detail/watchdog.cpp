#include "actors/detail/watchdog.hpp"

#include <algorithm>

namespace provisiond::actors::detail {

std::uint64_t stuck_watchdog::track(const caf::actor_addr& owner, events::step_kind step, int attempt,
                                    time_ms deadline) {
  std::lock_guard lock{mutex_};
  auto id = next_++;
  calls_.emplace(id, call{owner, step, attempt, deadline});
  return id;
}

void stuck_watchdog::untrack(std::uint64_t ticket) {
  std::lock_guard lock{mutex_};
  calls_.erase(ticket);
}

std::vector<stuck_watchdog::call> stuck_watchdog::take_overdue(time_ms now) {
  std::vector<call> due;
  std::lock_guard lock{mutex_};
  for (auto it = calls_.begin(); it != calls_.end();)
    if (it->second.deadline <= now) {
      due.push_back(it->second);
      it = calls_.erase(it);
    } else {
      ++it;
    }
  return due;
}

time_ms stuck_watchdog::sweep_interval(time_ms stuck_after_ms) {
  return std::clamp<time_ms>(stuck_after_ms / 10, 10, 10'000);
}

}  // namespace provisiond::actors::detail
