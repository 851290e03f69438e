#pragma once
/// The one injectable source of time, and timers driven by it, so tests can
/// run hours of backoff in milliseconds.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace provisiond {

/// Milliseconds since the Unix epoch.
using time_ms = std::int64_t;

/// Wall-clock time. Thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  virtual time_ms now() const = 0;
  /// Blocks the calling thread for `ms` of this clock's time, so a wait loop
  /// that polls against now() can run on any clock. The default (and the
  /// system clock) really sleeps; a manual clock advances itself instead.
  /// Thread-safe; ms <= 0 returns at once.
  virtual void sleep_for(time_ms ms);
};

/// Runs callbacks at (or after) a time of its clock. Callbacks run on the
/// service's own thread and must not block. Thread-safe.
class timer_service {
 public:
  virtual ~timer_service() = default;
  virtual void schedule(time_ms at, std::function<void()> fn) = 0;
  /// Stops firing; pending callbacks are dropped. Safe to call twice.
  virtual void stop() = 0;
};

/// The system clock.
std::shared_ptr<clock> make_system_clock();

/// A timer service for a real clock: one thread sleeping until the next due time.
std::shared_ptr<timer_service> make_real_timers(std::shared_ptr<clock> clk);

/// A clock that only moves when told; its timers fire inside advance().
class manual_clock final : public clock, public timer_service {
 public:
  explicit manual_clock(time_ms start = 1'700'000'000'000);
  ~manual_clock() override;
  time_ms now() const override;
  /// Does not block: advance(ms), firing the timers now due.
  void sleep_for(time_ms ms) override;
  void schedule(time_ms at, std::function<void()> fn) override;
  void stop() override;
  /// Moves time forward and fires every timer now due, in time order.
  void advance(time_ms delta);
  /// Number of timers not yet fired.
  std::size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// ISO-8601 UTC with milliseconds ("2026-11-25T14:26:17.123Z").
std::string format_time(time_ms t);

}  // namespace provisiond
