#include <algorithm>

#include "common/settings.hpp"
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <queue>
#include <random>
#include <thread>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"

namespace provisiond {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::retryable: return "retryable";
    case errc::permanent: return "permanent";
    case errc::unavailable: return "unavailable";
    case errc::too_large: return "too_large";
    case errc::unsupported: return "unsupported";
    case errc::fenced: return "fenced";
    case errc::internal: return "internal";
    case errc::unauthenticated: return "unauthenticated";
    case errc::forbidden: return "forbidden";
  }
  return "internal";
}

namespace {

class random_id_source final : public id_source {
 public:
  explicit random_id_source(std::uint64_t seed)
      : rng_(seed != 0 ? seed : (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

  request_id next_request_id() override {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t a, b;
    {
      std::lock_guard lock{mutex_};
      a = rng_();
      b = rng_();
    }
    std::string s = "req-";
    for (int i = 0; i < 16; ++i) s += hex[(a >> (i * 4)) & 0xf];
    for (int i = 0; i < 4; ++i) s += hex[(b >> (i * 4)) & 0xf];
    return request_id{std::move(s)};
  }

 private:
  std::mutex mutex_;
  std::mt19937_64 rng_;
};

class system_clock_impl final : public clock {
 public:
  time_ms now() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

struct timer_entry {
  time_ms at;
  std::uint64_t order;
  std::function<void()> fn;
  bool operator>(const timer_entry& o) const { return at != o.at ? at > o.at : order > o.order; }
};
using timer_queue = std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>>;

class real_timers final : public timer_service {
 public:
  explicit real_timers(std::shared_ptr<clock> clk) : clock_(std::move(clk)) {
    thread_ = std::thread([this] { run(); });
  }
  ~real_timers() override { stop(); }

  void schedule(time_ms at, std::function<void()> fn) override {
    std::lock_guard lock{mutex_};
    if (stopped_) return;
    // Wake the thread only when this timer is due before everything it waits
    // for (stuck timers, 30 min out, are the common case and need no wake-up).
    bool earliest = queue_.empty() || at < queue_.top().at;
    queue_.push(timer_entry{at, next_order_++, std::move(fn)});
    if (earliest) cv_.notify_one();
  }

  void stop() override {
    {
      std::lock_guard lock{mutex_};
      if (stopped_) return;
      stopped_ = true;
      queue_ = {};
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock{mutex_};
    while (!stopped_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto now = clock_->now();
      if (queue_.top().at > now) {
        cv_.wait_for(lock, std::chrono::milliseconds(queue_.top().at - now));
        continue;
      }
      auto fn = std::move(const_cast<timer_entry&>(queue_.top()).fn);
      queue_.pop();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::shared_ptr<clock> clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  timer_queue queue_;
  std::uint64_t next_order_ = 0;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<id_source> make_random_id_source(std::uint64_t seed) {
  return std::make_unique<random_id_source>(seed);
}

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool id_shaped(std::string_view s, std::size_t max, std::string_view extra) {
  if (s.empty() || s.size() > max || !is_alnum(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return is_alnum(c) || extra.find(c) != std::string_view::npos; });
}

}  // namespace

bool is_valid_id(std::string_view s) noexcept { return id_shaped(s, 64, "-_."); }

bool is_valid_order_id(std::string_view s) noexcept { return id_shaped(s, 128, "-_.:"); }

void clock::sleep_for(time_ms ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

time_ms retry_policy::delay_for(int retry) const noexcept {
  time_ms d = base_delay_ms;
  for (int i = 1; i < retry && d < max_delay_ms; ++i) d *= 2;
  return std::min(d, max_delay_ms);
}


std::shared_ptr<clock> make_system_clock() { return std::make_shared<system_clock_impl>(); }

std::shared_ptr<timer_service> make_real_timers(std::shared_ptr<clock> clk) {
  return std::make_shared<real_timers>(std::move(clk));
}

struct manual_clock::impl {
  mutable std::mutex mutex;
  time_ms now;
  timer_queue queue;
  std::uint64_t next_order = 0;
  bool stopped = false;
};

manual_clock::manual_clock(time_ms start) : impl_(std::make_unique<impl>()) { impl_->now = start; }
manual_clock::~manual_clock() = default;

time_ms manual_clock::now() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->now;
}

void manual_clock::sleep_for(time_ms ms) {
  if (ms > 0) advance(ms);
}

void manual_clock::schedule(time_ms at, std::function<void()> fn) {
  std::unique_lock lock{impl_->mutex};
  if (impl_->stopped) return;
  if (at <= impl_->now) {
    // Already due: fire now, as a real timer would.
    lock.unlock();
    fn();
    return;
  }
  impl_->queue.push(timer_entry{at, impl_->next_order++, std::move(fn)});
}

void manual_clock::stop() {
  std::lock_guard lock{impl_->mutex};
  impl_->stopped = true;
  impl_->queue = {};
}

void manual_clock::advance(time_ms delta) {
  std::unique_lock lock{impl_->mutex};
  auto target = impl_->now + delta;
  while (!impl_->queue.empty() && impl_->queue.top().at <= target) {
    auto fn = std::move(const_cast<timer_entry&>(impl_->queue.top()).fn);
    impl_->now = std::max(impl_->now, impl_->queue.top().at);
    impl_->queue.pop();
    lock.unlock();
    fn();
    lock.lock();
  }
  impl_->now = target;
}

std::size_t manual_clock::pending() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->queue.size();
}

std::string format_time(time_ms t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  int ms = static_cast<int>(t % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

}  // namespace provisiond
