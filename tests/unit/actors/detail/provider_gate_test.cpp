#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "actors/detail/provider_gate.hpp"

using namespace provisiond;
using namespace provisiond::actors::detail;
using namespace std::chrono_literals;

namespace {

gate_config small() {
  gate_config g;
  g.max_concurrent = 2;
  g.window = 4;
  g.min_calls = 4;
  g.failure_rate = 0.5;
  g.open_ms = 10'000;
  g.half_open_probes = 1;
  return g;
}

// Runs one call through the gate and waits for it; returns false if it was rejected.
bool call(provider_gate& gate, io_pool& pool, bool fail) {
  std::atomic<int> outcome{0};
  gate.submit(
      pool,
      [&] {
        gate.done(fail);
        outcome = 1;
      },
      [&] { outcome = 2; });
  while (outcome == 0) std::this_thread::sleep_for(1ms);
  return outcome == 1;
}

}  // namespace

TEST(ProviderGate, OpensOnFailuresFailsFastThenAProbeClosesIt) {
  auto clk = std::make_shared<manual_clock>();
  io_pool pool{2};
  provider_gate gate{small(), clk};
  EXPECT_TRUE(call(gate, pool, true));
  EXPECT_TRUE(call(gate, pool, false));
  EXPECT_TRUE(call(gate, pool, true));
  EXPECT_EQ(gate.state(), breaker_state::closed) << "no verdict before min_calls";
  EXPECT_TRUE(call(gate, pool, true));  // 3 of 4 failed
  EXPECT_EQ(gate.state(), breaker_state::open);
  EXPECT_FALSE(call(gate, pool, false)) << "open: fail fast, no provider call";
  clk->advance(10'000);
  EXPECT_EQ(gate.state(), breaker_state::half_open);
  EXPECT_TRUE(call(gate, pool, true)) << "one probe goes through";
  EXPECT_EQ(gate.state(), breaker_state::open) << "a failed probe opens it again";
  clk->advance(10'000);
  EXPECT_TRUE(call(gate, pool, false));
  EXPECT_EQ(gate.state(), breaker_state::closed) << "a good probe closes it";
  pool.drain(1s);
}

TEST(ProviderGate, BulkheadBoundsConcurrentCallsPerCluster) {
  auto clk = std::make_shared<manual_clock>();
  io_pool pool{8};
  provider_gate gate{small(), clk};  // at most 2 at once
  std::atomic<int> running{0}, peak{0}, finished{0};
  for (int i = 0; i < 10; ++i)
    gate.submit(
        pool,
        [&] {
          int now = ++running;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          std::this_thread::sleep_for(10ms);
          --running;
          ++finished;
          gate.done(false);
        },
        [] {});
  while (finished < 10) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(peak.load(), 2) << "8 pool threads, but this cluster never got more than 2";
  pool.drain(1s);
}
