#pragma once
/// The idle-socket and slowloris flood of the hostile test and bench: idle
/// connections spread over several loopback source addresses (the server's
/// per-client limit is per address), slowloris connections trickling a
/// header one byte at a time, and a healthy client from 127.0.0.1 whose
/// latencies are measured. Nothing here asserts a timing.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/hostile/raw_conn.hpp"

namespace provisiond::testing {

/// Idle and trickling connections held open (and reopened when the server
/// closes them) until destroyed.
class flood {
 public:
  /// `idle` connections round-robin over 127.0.0.2 … 127.0.0.(1+idle_addresses),
  /// `slow` slowloris connections from the next address.
  flood(std::uint16_t port, int idle, int idle_addresses, int slow) : port_(port) {
    for (int a = 0; a < idle_addresses; ++a) addresses_.push_back("127.0.0." + std::to_string(2 + a));
    slow_address_ = "127.0.0." + std::to_string(2 + idle_addresses);
    for (int i = 0; i < idle; ++i)
      idle_.push_back(std::make_unique<raw_conn>(port_, addresses_[i % addresses_.size()].c_str(), 1));
    for (int i = 0; i < slow; ++i) slow_.push_back(open_slow());
    driver_ = std::thread([this] { drive(); });
  }
  flood(const flood&) = delete;
  flood& operator=(const flood&) = delete;
  ~flood() {
    done_ = true;
    driver_.join();
  }

  /// Connections that connected (the server's backlog accepts them; the
  /// server may then refuse some with a 503 over a limit).
  int connected() const {
    int n = 0;
    for (auto& c : idle_) n += c->connected();
    return n;
  }
  /// Connections the server closed and the flood opened again.
  int reopened() const { return reopened_; }

 private:
  std::unique_ptr<raw_conn> open_slow() {
    auto c = std::make_unique<raw_conn>(port_, slow_address_.c_str(), 1);
    c->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    return c;
  }

  // Every 100 ms: each slowloris sends one more byte; a connection the
  // server closed is opened again, so the pressure never lets up.
  void drive() {
    while (!done_) {
      for (auto& c : slow_) {
        if (c->closed_now()) {
          c = open_slow();
          ++reopened_;
        } else {
          c->send("x");
        }
      }
      for (std::size_t i = 0; i < idle_.size() && !done_; ++i)
        if (idle_[i]->closed_now()) {
          idle_[i] = std::make_unique<raw_conn>(port_, addresses_[i % addresses_.size()].c_str(), 1);
          ++reopened_;
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::uint16_t port_;
  std::vector<std::string> addresses_;
  std::string slow_address_;
  std::vector<std::unique_ptr<raw_conn>> idle_;
  std::vector<std::unique_ptr<raw_conn>> slow_;
  std::atomic<bool> done_{false};
  std::atomic<int> reopened_{0};
  std::thread driver_;
};

/// Latencies of `n` sequential GETs of `target` from 127.0.0.1, in ms; the
/// statuses that were not 200 are counted in `failures`.
inline std::vector<double> healthy_latencies(std::uint16_t port, const std::string& target, int n, int& failures) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = http_call(port, "GET", target);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (r.status != 200) ++failures;
  }
  return ms;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * p))];
}

}  // namespace provisiond::testing
