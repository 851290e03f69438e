// Given/when/then tests of one cluster's capacity book: no CAF, no sleeps.
#include <gtest/gtest.h>

#include "actors/cluster/capacity_book.hpp"

using namespace provisiond;
using namespace provisiond::actors;

namespace {

cluster_config cluster(cluster_capacity total, std::string health = "online") {
  cluster_config c;
  c.id = "c1";
  c.type = "simulation";
  c.region = "eu-west-1";
  c.capacity = total;
  c.health = std::move(health);
  return c;
}

}  // namespace

TEST(CapacityBook, ReservesWhileThereIsRoomThenSaysWhatIsShort) {
  capacity_book book;
  auto c = cluster({8, 32, 1000, 2});
  EXPECT_EQ(book.reserve("r1", {6, 8, 100, 1}, c), "");
  auto refusal = book.reserve("r2", {4, 8, 100, 1}, c);
  EXPECT_NE(refusal.find("cpu needs 4, 2 free"), std::string::npos) << refusal;
  EXPECT_EQ(book.used(), (cluster_capacity{6, 8, 100, 1}));
  EXPECT_EQ(book.holders(), 1u);
}

TEST(CapacityBook, AskingAgainForTheSameRequestIsIdempotent) {
  capacity_book book;
  auto c = cluster({8, 32, 1000, 2});
  EXPECT_EQ(book.reserve("r1", {6, 8, 100, 1}, c), "");
  EXPECT_EQ(book.reserve("r1", {6, 8, 100, 1}, c), "");
  EXPECT_EQ(book.used().cpu, 6);
}

TEST(CapacityBook, ReleaseGivesTheCapacityBackOnce) {
  capacity_book book;
  auto c = cluster({8, 32, 1000, 2});
  book.reserve("r1", {6, 8, 100, 1}, c);
  book.release("r1");
  book.release("r1");
  EXPECT_EQ(book.used(), cluster_capacity{});
  EXPECT_EQ(book.reserve("r2", {8, 8, 100, 1}, c), "");
}

TEST(CapacityBook, ADeletedOrOfflineClusterTakesNothing) {
  capacity_book book;
  EXPECT_EQ(book.reserve("r1", {1, 1, 1, 1}, std::nullopt), "cluster was deleted");
  EXPECT_NE(book.reserve("r1", {1, 1, 1, 1}, cluster({8, 8, 8, 8}, "offline")).find("offline"), std::string::npos);
  EXPECT_EQ(book.holders(), 0u);
}

TEST(CapacityBook, RebuiltHoldersCountOnce) {
  capacity_book book;
  book.hold("r1", {2, 2, 2, 1});
  book.hold("r1", {2, 2, 2, 1});
  EXPECT_EQ(book.used(), (cluster_capacity{2, 2, 2, 1}));
}

TEST(PlacementReason, NamesTheClusterAndEverySkip) {
  provisiond::events::request_submitted spec;
  spec.provider = "simulation";
  spec.region = "test-1";
  EXPECT_EQ(placement_reason("b-big", false, spec, {"a-small: not enough capacity", "c-down: health is offline"}),
            "b-big is the first simulation cluster in test-1 with room (skipped: a-small: not enough capacity; "
            "c-down: health is offline)");
  EXPECT_EQ(placement_reason("d", true, spec, {}), "d is the default simulation cluster in test-1");
}
