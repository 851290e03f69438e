#pragma once
/// A fixed pool of threads for blocking provider calls, so they never run on
/// CAF's scheduler threads.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace provisiond::actors::detail {

class io_pool {
 public:
  explicit io_pool(int threads) : state_(std::make_shared<state>()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([s = state_] { run(*s); });
  }
  ~io_pool() { drain(std::chrono::milliseconds(0)); }

  /// Queues a job; returns false once draining started.
  bool post(std::function<void()> job) {
    std::lock_guard lock{state_->mutex};
    if (state_->closed) return false;
    state_->queue.push_back(std::move(job));
    state_->cv.notify_one();
    return true;
  }

  /// Stops accepting jobs and waits up to `grace` for queued and running
  /// jobs. Jobs still queued after the grace period are dropped (their
  /// intents are settled at the next start). Returns true if every job
  /// finished. Then joins the threads — unless `abandon` and a thread is
  /// still inside a job (a provider call that does not return): the threads
  /// are then left behind, detached, so the caller never waits on a cloud;
  /// whatever those jobs capture must outlive them (the process exits).
  bool drain(std::chrono::milliseconds grace, bool abandon = false) {
    std::unique_lock lock{state_->mutex};
    state_->closed = true;
    bool done = state_->idle.wait_for(lock, grace, [&] { return state_->queue.empty() && state_->running == 0; });
    state_->queue.clear();
    state_->stop = true;
    state_->cv.notify_all();
    done = done || state_->running == 0;
    bool leave = abandon && state_->running > 0;
    lock.unlock();
    for (auto& t : threads_) {
      if (!t.joinable()) continue;
      if (leave) t.detach();
      else t.join();
    }
    return done;
  }

  std::size_t in_flight() const {
    std::lock_guard lock{state_->mutex};
    return state_->queue.size() + state_->running;
  }

 private:
  // Shared with the threads, so a detached one never touches freed memory.
  struct state {
    std::mutex mutex;
    std::condition_variable cv;
    std::condition_variable idle;
    std::deque<std::function<void()>> queue;
    std::size_t running = 0;
    bool closed = false;
    bool stop = false;
  };

  static void run(state& s) {
    std::unique_lock lock{s.mutex};
    for (;;) {
      s.cv.wait(lock, [&] { return s.stop || !s.queue.empty(); });
      if (s.queue.empty()) return;
      auto job = std::move(s.queue.front());
      s.queue.pop_front();
      ++s.running;
      lock.unlock();
      job();
      lock.lock();
      --s.running;
      if (s.queue.empty() && s.running == 0) s.idle.notify_all();
    }
  }

  std::shared_ptr<state> state_;
  std::vector<std::thread> threads_;
};

}  // namespace provisiond::actors::detail
