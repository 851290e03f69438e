#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "events/codec.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace rdb = provisiond::events::rocksdb_adapter;
using provisiond::durability;
using provisiond::errc;

namespace {

ev::append_request req(const std::string& stream, std::uint64_t expected, int n) {
  ev::append_request r;
  r.stream = stream;
  r.expected_sequence = expected;
  for (int i = 0; i < n; ++i)
    r.events.push_back(ev::make_pending(ev::rollback_started{"e" + std::to_string(expected + i + 1)}, 1000 + i));
  return r;
}

struct JournalTest : ::testing::TestWithParam<durability> {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<ev::journal> open() {
    auto s = rdb::store::open(dir / "journal", GetParam());
    EXPECT_TRUE(s.has_value());
    return rdb::make_journal(*s);
  }
};

}  // namespace

TEST_P(JournalTest, AppendsAndReadsOneStream) {
  auto j = open();
  auto r = j->append(req("request-a", 0, 3));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->last_sequence, 3u);
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->last_position, 3u);
  auto evs = j->read_stream("request-a", 2);
  ASSERT_TRUE(evs.has_value());
  ASSERT_EQ(evs->size(), 2u);
  EXPECT_EQ((*evs)[0].sequence, 2u);
  EXPECT_EQ((*evs)[0].event_id, "a:2");
  EXPECT_EQ((*evs)[1].type, "rollback_started");
  auto decoded = ev::decode((*evs)[1]);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(std::get<ev::rollback_started>(*decoded).reason, "e3");
}

TEST_P(JournalTest, SequenceMismatchIsAConflictAndWritesNothing) {
  auto j = open();
  ASSERT_TRUE(j->append(req("request-a", 0, 2)));
  auto stale = j->append(req("request-a", 1, 1));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, errc::conflict);
  auto again = j->append(req("request-a", 0, 1));
  EXPECT_EQ(again.error().code, errc::conflict);
  EXPECT_EQ(j->read_stream("request-a", 1)->size(), 2u);
  EXPECT_EQ(j->last_position(), 2u);
}

TEST_P(JournalTest, GlobalOrderInterleavesStreams) {
  auto j = open();
  ASSERT_TRUE(j->append(req("request-a", 0, 1)));
  ASSERT_TRUE(j->append(req("request-b", 0, 2)));
  ASSERT_TRUE(j->append(req("request-a", 1, 1)));
  auto all = j->read_all(1, 100);
  ASSERT_EQ(all->size(), 4u);
  std::vector<std::string> order;
  for (auto& e : *all) order.push_back(e.event_id);
  EXPECT_EQ(order, (std::vector<std::string>{"a:1", "b:1", "b:2", "a:2"}));
  EXPECT_EQ(j->read_all(3, 1)->front().event_id, "b:2");
}

TEST_P(JournalTest, DedupeRecordMakesARepeatANoOp) {
  auto j = open();
  auto first = req("request-a", 0, 1);
  first.dedupe = ev::dedupe_record{"cmd/1", "answer-a"};
  ASSERT_TRUE(j->append(first));
  auto second = req("request-b", 0, 1);
  second.dedupe = ev::dedupe_record{"cmd/1", "answer-b"};
  auto r = j->append(second);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->duplicate_of.has_value());
  EXPECT_EQ(*r->duplicate_of, "answer-a");
  EXPECT_TRUE(j->read_stream("request-b", 1)->empty());
  EXPECT_EQ(j->find_dedupe("cmd/1")->value(), "answer-a");
}

TEST_P(JournalTest, OutboxHoldsEveryEventUntilAcknowledged) {
  auto j = open();
  ASSERT_TRUE(j->append(req("request-a", 0, 3)));
  auto out = j->read_outbox(1, 10);
  EXPECT_EQ(*out, (std::vector<std::uint64_t>{1, 2, 3}));
  ASSERT_TRUE(j->ack_outbox({1, 2}));
  EXPECT_EQ(*j->read_outbox(1, 10), (std::vector<std::uint64_t>{3}));
}

TEST_P(JournalTest, ConcurrentAppendsGetUniqueContiguousPositions) {
  auto j = open();
  constexpr int threads = 8, per = 200;
  std::vector<std::thread> ts;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::uint64_t seq = 0;
      for (int i = 0; i < per; ++i) {
        auto r = j->append(req("request-t" + std::to_string(t), seq, 1));
        if (!r) ++conflicts;
        else seq = r->last_sequence;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(conflicts.load(), 0);
  auto all = j->read_all(1, 100000);
  ASSERT_EQ(all->size(), static_cast<std::size_t>(threads * per));
  for (std::size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].global_position, i + 1);
  std::set<std::string> ids;
  for (auto& e : *all) ids.insert(e.event_id);
  EXPECT_EQ(ids.size(), all->size());
}

TEST_P(JournalTest, RacingWritersOfOneStreamOneWinsPerSequence) {
  auto j = open();
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] {
      auto r = j->append(req("request-x", 0, 1));
      (r ? wins : conflicts)++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

TEST_P(JournalTest, SurvivesReopen) {
  {
    auto j = open();
    ASSERT_TRUE(j->append(req("request-a", 0, 2)));
  }
  auto j = open();
  EXPECT_EQ(j->last_position(), 2u);
  ASSERT_TRUE(j->append(req("request-a", 2, 1)));
  EXPECT_EQ(j->read_stream("request-a", 1)->size(), 3u);
  EXPECT_EQ(j->append(req("request-a", 2, 1)).error().code, errc::conflict);
}

INSTANTIATE_TEST_SUITE_P(Modes, JournalTest, ::testing::Values(durability::durable, durability::fast),
                         [](const auto& info) { return info.param == durability::durable ? "durable" : "fast"; });

TEST_P(JournalTest, AStreamWrittenWithAHigherFencingTokenRefusesAnOlderWriter) {
  auto j = open();
  auto first = req("request-f", 0, 2);
  first.fencing_token = 7;
  ASSERT_TRUE(j->append(first));
  // A newer owner (token 9) writes; the old one (7) is refused from then on,
  // even with the right sequence, and nothing of its append is stored.
  auto newer = req("request-f", 2, 1);
  newer.fencing_token = 9;
  ASSERT_TRUE(j->append(newer));
  auto stale = req("request-f", 3, 1);
  stale.fencing_token = 7;
  auto refused = j->append(stale);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::fenced);
  EXPECT_EQ(refused.error().field, "fencingToken");
  auto evs = j->read_stream("request-f", 1);
  ASSERT_TRUE(evs.has_value());
  ASSERT_EQ(evs->size(), 3u);
  EXPECT_EQ((*evs)[2].fencing_token, 9u);
  // The same or a higher token goes on; other streams are not affected.
  auto same = req("request-f", 3, 1);
  same.fencing_token = 9;
  EXPECT_TRUE(j->append(same).has_value());
  auto other = req("request-g", 0, 1);
  other.fencing_token = 1;
  EXPECT_TRUE(j->append(other).has_value());
}

TEST_P(JournalTest, TheFencingTokenOfAStreamSurvivesAReopen) {
  {
    auto j = open();
    auto a = req("request-f", 0, 1);
    a.fencing_token = 5;
    ASSERT_TRUE(j->append(a));
  }
  auto j = open();
  auto stale = req("request-f", 1, 1);
  stale.fencing_token = 4;
  auto refused = j->append(stale);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::fenced);
}
