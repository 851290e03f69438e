#pragma once
/// The gate in front of one cluster's provider calls: a circuit breaker
/// (failure rate over the last calls; open → fail fast as retryable;
/// half-open → a few probes) and a bulkhead (at most N calls at once; the
/// rest wait here, not on the shared I/O pool), so a slow or failing cluster
/// cannot slow requests on other clusters. Thread-safe.

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "actors/detail/io_pool.hpp"
#include "common/clock.hpp"
#include "common/settings.hpp"

namespace provisiond::actors::detail {

enum class breaker_state { closed = 0, open = 1, half_open = 2 };

inline const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half-open";
  }
  return "closed";
}

class provider_gate {
 public:
  provider_gate(gate_config cfg, std::shared_ptr<clock> time) : cfg_(cfg), clock_(std::move(time)) {}

  /// Runs `call` on `pool` once a bulkhead slot is free, or `rejected` (on
  /// the caller's thread) while the breaker is open. `call` must end with
  /// done(); `rejected` must not.
  void submit(io_pool& pool, std::function<void()> call, std::function<void()> rejected) {
    bool run_now = false, reject = false;
    {
      std::lock_guard lock{mutex_};
      pool_ = &pool;
      if (!admit_locked()) reject = true;
      else if (running_ >= cfg_.max_concurrent) waiting_.push_back(std::move(call));
      else {
        ++running_;
        run_now = true;
      }
    }
    if (reject) rejected();
    else if (run_now) pool.post(std::move(call));
  }

  /// Reports how a call ended (a retryable failure counts against the
  /// cluster) and frees its slot.
  void done(bool failed) {
    std::function<void()> next;
    {
      std::lock_guard lock{mutex_};
      record_locked(failed);
      if (!waiting_.empty()) {
        next = std::move(waiting_.front());
        waiting_.pop_front();
      } else {
        --running_;
      }
    }
    if (next && pool_) pool_->post(std::move(next));
  }

  /// Drops the calls still waiting for a slot (at shutdown).
  void clear() {
    std::lock_guard lock{mutex_};
    waiting_.clear();
  }

  /// Calls running or waiting for a slot.
  int load() const {
    std::lock_guard lock{mutex_};
    return running_ + static_cast<int>(waiting_.size());
  }

  breaker_state state() const {
    std::lock_guard lock{mutex_};
    if (state_ == breaker_state::open && clock_->now() >= open_until_) return breaker_state::half_open;
    return state_;
  }

 private:
  // Decides whether a call may go to the provider now.
  bool admit_locked() {
    if (state_ == breaker_state::open) {
      if (clock_->now() < open_until_) return false;
      state_ = breaker_state::half_open;
      probes_ = 0;
    }
    if (state_ == breaker_state::half_open) {
      if (probes_ >= cfg_.half_open_probes) return false;
      ++probes_;
    }
    return true;
  }

  void record_locked(bool failed) {
    if (state_ == breaker_state::half_open) {
      if (failed) trip_locked();
      else {
        state_ = breaker_state::closed;
        outcomes_.clear();
      }
      return;
    }
    outcomes_.push_back(failed);
    while (static_cast<int>(outcomes_.size()) > cfg_.window) outcomes_.pop_front();
    if (static_cast<int>(outcomes_.size()) < cfg_.min_calls) return;
    int failures = 0;
    for (bool f : outcomes_) failures += f;
    if (failures >= cfg_.failure_rate * static_cast<double>(outcomes_.size())) trip_locked();
  }

  void trip_locked() {
    state_ = breaker_state::open;
    open_until_ = clock_->now() + cfg_.open_ms;
    outcomes_.clear();
  }

  gate_config cfg_;
  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  breaker_state state_ = breaker_state::closed;
  time_ms open_until_ = 0;
  int probes_ = 0;
  std::deque<bool> outcomes_;
  int running_ = 0;
  std::deque<std::function<void()>> waiting_;
  io_pool* pool_ = nullptr;
};

}  // namespace provisiond::actors::detail
