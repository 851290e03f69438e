// The Redis adapter against a real redis-server: leases with fencing tokens
// that never go backwards (even across a restart without persistence) and
// the atomic, idempotent capacity reservation.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "events/redis/capacity_store.hpp"
#include "events/redis/lease.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond;
using namespace provisiond::events::redis;
using namespace std::chrono_literals;

namespace {

struct Redis : ::testing::Test {
  provisiond::testing::temp_dir dir;
  std::unique_ptr<provisiond::testing::redis_server> server;
  std::shared_ptr<client> redis;

  void SetUp() override {
    server = std::make_unique<provisiond::testing::redis_server>(dir / "redis");
    ASSERT_TRUE(server->start()) << "redis-server did not start";
    auto c = client::connect(server->url());
    ASSERT_TRUE(c.has_value()) << c.error().message;
    redis = std::move(*c);
  }
};

}  // namespace

TEST_F(Redis, OneOwnerHoldsALeaseUntilItIsReleasedOrExpires) {
  lease_store leases{redis, "t:"};
  auto a = leases.acquire("partition-0", "instance-a", 10'000, 0);
  ASSERT_TRUE(a.has_value() && a->has_value());
  auto b = leases.acquire("partition-0", "instance-b", 10'000, 0);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->has_value()) << "held by a";
  EXPECT_TRUE(*leases.renew(**a, 10'000));
  lease forged = **a;
  forged.owner = "instance-b";
  EXPECT_FALSE(*leases.release(forged)) << "only the holder frees it";
  EXPECT_TRUE(*leases.release(**a));
  EXPECT_FALSE(*leases.release(**a)) << "idempotent";
  auto c = leases.acquire("partition-0", "instance-b", 100, 0);
  ASSERT_TRUE(c->has_value());
  EXPECT_GT((*c)->token, (*a)->token) << "tokens only grow";
  std::this_thread::sleep_for(250ms);
  EXPECT_FALSE(*leases.renew(**c, 100)) << "an expired lease cannot be renewed";
  auto d = leases.acquire("partition-0", "instance-a", 10'000, 0);
  ASSERT_TRUE(d->has_value()) << "free again after the TTL";
}

TEST_F(Redis, FencingTokensNeverGoBackwardsAcrossARestartWithoutPersistence) {
  lease_store leases{redis, "t:"};
  std::uint64_t highest = 0;
  for (int i = 0; i < 5; ++i) {
    auto l = leases.acquire("p", "a", 10'000, 0);
    highest = (*l)->token;
    ASSERT_TRUE(*leases.release(**l));
  }
  server->stop();
  ASSERT_TRUE(server->start());  // everything is gone, the counter too
  auto again = leases.acquire("p", "b", 10'000, highest);  // the floor: the highest token in the journal
  ASSERT_TRUE(again.has_value()) << again.error().message;  // the client reconnected by itself
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->token, highest + 1);
}

TEST_F(Redis, CapacityIsReservedAtomicallyOncePerRequestAndReleasedOnce) {
  capacity_store cap{redis, "t:"};
  amounts total{8, 32, 1000, 2};
  EXPECT_EQ(*cap.reserve("c1", "r1", {6, 8, 100, 1}, total), std::nullopt) << "nothing decided before the counters are known";
  ASSERT_TRUE(*cap.restore("c1", {}));
  EXPECT_EQ(*cap.reserve("c1", "r1", {6, 8, 100, 1}, total), "");
  EXPECT_EQ(*cap.reserve("c1", "r1", {6, 8, 100, 1}, total), "") << "idempotent per request";
  EXPECT_EQ(*cap.reserve("c1", "r2", {4, 8, 100, 1}, total), "cpu needs 4, 2 free");
  auto u = cap.used("c1");
  EXPECT_EQ(u->first, (amounts{6, 8, 100, 1}));
  EXPECT_EQ(u->second, 1);
  EXPECT_TRUE(*cap.release("c1", "r1"));
  EXPECT_FALSE(*cap.release("c1", "r1"));
  EXPECT_EQ(cap.used("c1")->first, (amounts{0, 0, 0, 0}));
}

TEST_F(Redis, ConcurrentReservationsNeverPassTheTotal) {
  capacity_store cap{redis, "t:"};
  amounts total{10, 1000, 1000, 1000};
  ASSERT_TRUE(*cap.restore("c1", {}));
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto own = client::connect(server->url());
      ASSERT_TRUE(own.has_value());
      capacity_store mine{std::shared_ptr<client>(std::move(*own)), "t:"};
      for (int i = 0; i < 10; ++i)
        if (*mine.reserve("c1", "r" + std::to_string(t) + "-" + std::to_string(i), {1, 1, 1, 1}, total) ==
            std::optional<std::string>{""})
          ++granted;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 10);
  EXPECT_EQ(cap.used("c1")->first[0], 10);
}

TEST_F(Redis, CountersAreRebuiltFromWhatTheJournalSaysIsHeld) {
  capacity_store cap{redis, "t:"};
  ASSERT_TRUE(*cap.restore("c1", {}));
  cap.reserve("c1", "stale", {5, 5, 5, 1}, {8, 8, 8, 8});
  ASSERT_TRUE(cap.rebuild("c1", {{"r1", {2, 4, 40, 1}}, {"r2", {1, 2, 20, 1}}}).has_value());
  EXPECT_EQ(cap.used("c1")->first, (amounts{3, 6, 60, 2}));
  EXPECT_TRUE(*cap.release("c1", "r2"));
  EXPECT_FALSE(*cap.release("c1", "stale"));
}

TEST_F(Redis, AfterARedisLossTheCountersAreRestoredOnceAndKeepWhatWasReservedSince) {
  capacity_store cap{redis, "t:"};
  amounts total{8, 64, 1000, 8};
  ASSERT_TRUE(*cap.restore("c1", {}));
  ASSERT_EQ(*cap.reserve("c1", "r1", {2, 4, 40, 1}, total), "");
  server->stop();
  ASSERT_TRUE(server->start());  // everything is gone
  EXPECT_EQ(*cap.reserve("c1", "r2", {1, 1, 1, 1}, total), std::nullopt) << "no decision on lost counters";
  // What the journal says is held: r1. Restored once; a second restore (another instance) is a no-op.
  EXPECT_TRUE(*cap.restore("c1", {{"r1", {2, 4, 40, 1}}}));
  EXPECT_EQ(*cap.reserve("c1", "r2", {1, 1, 1, 1}, total), "");
  EXPECT_FALSE(*cap.restore("c1", {{"r1", {2, 4, 40, 1}}, {"r9", {5, 5, 5, 5}}}));
  EXPECT_EQ(cap.used("c1")->first, (amounts{3, 5, 41, 2}));
  EXPECT_EQ(*cap.reserve("c1", "r3", {6, 1, 1, 1}, total), "cpu needs 6, 5 free");
}
