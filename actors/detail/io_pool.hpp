#pragma once
/// A fixed pool of threads for blocking provider calls, so they never run on
/// CAF's scheduler threads.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace provisiond::actors::detail {

class io_pool {
 public:
  explicit io_pool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~io_pool() { drain(std::chrono::milliseconds(0)); }

  /// Queues a job; returns false once draining started.
  bool post(std::function<void()> job) {
    std::lock_guard lock{mutex_};
    if (closed_) return false;
    queue_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }

  /// Stops accepting jobs, waits up to `grace` for queued and running jobs,
  /// then joins. Jobs still queued after the grace period are dropped (their
  /// intents are settled at the next start). Returns true if all finished.
  bool drain(std::chrono::milliseconds grace) {
    std::unique_lock lock{mutex_};
    closed_ = true;
    bool done = idle_.wait_for(lock, grace, [&] { return queue_.empty() && running_ == 0; });
    queue_.clear();
    stop_ = true;
    cv_.notify_all();
    lock.unlock();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    return done;
  }

  std::size_t in_flight() const {
    std::lock_guard lock{mutex_};
    return queue_.size() + running_;
  }

 private:
  void run() {
    std::unique_lock lock{mutex_};
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      job();
      lock.lock();
      --running_;
      if (queue_.empty() && running_ == 0) idle_.notify_all();
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  std::size_t running_ = 0;
  bool closed_ = false;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace provisiond::actors::detail
