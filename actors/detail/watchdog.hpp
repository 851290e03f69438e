#pragma once
/// Stuck detection: one table of the provider step calls in flight (an entry
/// per call, removed when it answers, so memory follows the calls in flight)
/// and a periodic sweep that hands out the overdue ones. The deadline is
/// measured from the step's intent, so it holds across restarts.

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>

#include "common/clock.hpp"
#include "events/domain_events.hpp"

namespace provisiond::actors::detail {

class stuck_watchdog {
 public:
  struct call {
    caf::actor_addr owner;
    events::step_kind step;
    int attempt;
    time_ms deadline;
  };

  /// Records a call; returns its ticket for untrack(). Thread-safe.
  std::uint64_t track(const caf::actor_addr& owner, events::step_kind step, int attempt, time_ms deadline);
  /// The call answered (or was given up). Thread-safe; unknown tickets are ignored.
  void untrack(std::uint64_t ticket);
  /// Removes and returns every call whose deadline is at or before `now`.
  std::vector<call> take_overdue(time_ms now);
  /// How often to sweep for a given limit: a tenth of it, within 10 ms .. 10 s.
  static time_ms sweep_interval(time_ms stuck_after_ms);

 private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, call> calls_;
  std::uint64_t next_ = 1;
};

}  // namespace provisiond::actors::detail
