#include <gtest/gtest.h>

#include "actors/detail/watchdog.hpp"

using namespace provisiond;
using provisiond::actors::detail::stuck_watchdog;
using provisiond::events::step_kind;

TEST(StuckWatchdog, HandsOutOnlyOverdueCallsAndEachOnce) {
  stuck_watchdog w;
  auto early = w.track({}, step_kind::allocate, 1, 1000);
  w.track({}, step_kind::configure, 2, 5000);
  (void)early;
  EXPECT_TRUE(w.take_overdue(999).empty());
  auto due = w.take_overdue(1000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].step, step_kind::allocate);
  EXPECT_TRUE(w.take_overdue(1000).empty()) << "handed out once";
}

TEST(StuckWatchdog, AnAnsweredCallIsNeverOverdue) {
  stuck_watchdog w;
  auto t = w.track({}, step_kind::verify, 1, 10);
  w.untrack(t);
  EXPECT_TRUE(w.take_overdue(100).empty());
}

TEST(StuckWatchdog, SweepsATenthOfTheLimitWithinBounds) {
  EXPECT_EQ(stuck_watchdog::sweep_interval(1'800'000), 10'000);
  EXPECT_EQ(stuck_watchdog::sweep_interval(50), 10);
  EXPECT_EQ(stuck_watchdog::sweep_interval(2'000), 200);
}
