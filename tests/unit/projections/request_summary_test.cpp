#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/rocksdb/rocksdb_journal.hpp"
#include "projections/request_summary.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace pj = provisiond::projections;
using nlohmann::json;

namespace {

struct ProjectionTest : ::testing::Test {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<ev::rocksdb_adapter::store> store;
  std::shared_ptr<ev::journal> journal;
  std::unique_ptr<pj::request_summary_projection> proj;

  void SetUp() override {
    store = *ev::rocksdb_adapter::store::open(dir / "j", provisiond::durability::fast);
    journal = ev::rocksdb_adapter::make_journal(store);
    proj = std::make_unique<pj::request_summary_projection>(journal, pj::rocksdb_adapter::make_view_store(store));
  }

  void submit(const std::string& id, const std::string& tenant, bool complete) {
    std::vector<ev::event> evs = {
        ev::request_submitted{tenant, "o-" + id, "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "", {}},
        ev::cluster_placed{"sim", "d", {1, 2, 3, 1}}};
    if (complete) {
      for (int i = 0; i < 4; ++i) {
        auto k = static_cast<ev::step_kind>(i);
        evs.push_back(ev::step_started{k, 1, id + "/k"});
        evs.push_back(ev::step_completed{k, 1, {{"ipv4", "203.0.113.1"}}, false});
      }
      evs.push_back(ev::request_completed{{{"ipv4", "203.0.113.1"}}});
    }
    ev::append_request r;
    r.stream = ev::stream_for_request(id);
    for (auto& e : evs) r.events.push_back(ev::make_pending(e, 1'700'000'000'000));
    ASSERT_TRUE(journal->append(r));
  }

  std::vector<std::string> ids(const pj::list_page& p) {
    std::vector<std::string> out;
    for (auto& i : p.items_json) out.push_back(json::parse(i)["id"]);
    return out;
  }
};

}  // namespace

TEST_F(ProjectionTest, SummarisesStateStepsAndEndpoints) {
  submit("r1", "acme", true);
  ASSERT_TRUE(proj->catch_up());
  auto s = proj->get(provisiond::request_id{"r1"});
  ASSERT_TRUE(s.has_value() && s->has_value());
  auto j = json::parse(pj::render_request(**s));
  EXPECT_EQ(j["state"], "Completed");
  EXPECT_EQ(j["tenantId"], "acme");
  EXPECT_EQ(j["steps"].size(), 4u);
  EXPECT_EQ(j["steps"][3]["name"], "verify");
  EXPECT_EQ(j["steps"][3]["status"], "Completed");
  EXPECT_EQ(j["endpoints"]["ipv4"], "203.0.113.1");
  EXPECT_EQ(proj->checkpoint(), journal->last_position());
}

TEST_F(ProjectionTest, ListsByTenantAndStateWithCursorPages) {
  for (int i = 0; i < 5; ++i) submit("a" + std::to_string(i), "acme", i % 2 == 0);
  submit("b0", "bravo", true);
  ASSERT_TRUE(proj->catch_up());
  pj::list_query q;
  q.tenant_id = provisiond::tenant_id{"acme"};
  q.limit = 2;
  auto p1 = proj->list(q);
  ASSERT_TRUE(p1.has_value());
  EXPECT_EQ(ids(*p1), (std::vector<std::string>{"a0", "a1"}));
  q.cursor = p1->next_cursor;
  auto p2 = proj->list(q);
  EXPECT_EQ(ids(*p2), (std::vector<std::string>{"a2", "a3"}));
  q.cursor = p2->next_cursor;
  auto p3 = proj->list(q);
  EXPECT_EQ(ids(*p3), (std::vector<std::string>{"a4"}));
  EXPECT_TRUE(p3->next_cursor.empty());

  pj::list_query completed;
  completed.state = ev::lifecycle::completed;
  EXPECT_EQ(ids(*proj->list(completed)), (std::vector<std::string>{"a0", "a2", "a4", "b0"}));
  completed.tenant_id = provisiond::tenant_id{"acme"};
  EXPECT_EQ(ids(*proj->list(completed)), (std::vector<std::string>{"a0", "a2", "a4"}));
  auto open = proj->unfinished();
  std::vector<std::string> open_ids;
  for (auto& id : *open) open_ids.push_back(id.str());
  std::sort(open_ids.begin(), open_ids.end());
  EXPECT_EQ(open_ids, (std::vector<std::string>{"a1", "a3"}));
}

TEST_F(ProjectionTest, StateIndexMovesWhenStateChanges) {
  submit("r1", "acme", false);
  ASSERT_TRUE(proj->catch_up());
  pj::list_query queued;
  queued.state = ev::lifecycle::queued;
  EXPECT_EQ(proj->list(queued)->items_json.size(), 1u);
  ev::append_request r;
  r.stream = "request-r1";
  r.expected_sequence = 2;
  r.events.push_back(ev::make_pending(ev::request_failed{"x", "y", std::nullopt}, 1));
  ASSERT_TRUE(journal->append(r));
  ASSERT_TRUE(proj->catch_up());
  EXPECT_TRUE(proj->list(queued)->items_json.empty());
  queued.state = ev::lifecycle::failed;
  EXPECT_EQ(proj->list(queued)->items_json.size(), 1u);
}

TEST_F(ProjectionTest, RebuildFromZeroGivesTheSameView) {
  for (int i = 0; i < 3; ++i) submit("r" + std::to_string(i), "acme", i != 1);
  ASSERT_TRUE(proj->catch_up());
  std::vector<std::string> before;
  for (int i = 0; i < 3; ++i) before.push_back(pj::render_request(**proj->get(provisiond::request_id{"r" + std::to_string(i)})));
  ASSERT_TRUE(proj->rebuild());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pj::render_request(**proj->get(provisiond::request_id{"r" + std::to_string(i)})), before[i]);
  EXPECT_EQ(proj->list(pj::list_query{})->items_json.size(), 3u);
}

TEST_F(ProjectionTest, BackgroundThreadFollowsCommits) {
  proj->start();
  submit("r1", "acme", true);
  ASSERT_TRUE(proj->wait_for(journal->last_position(), std::chrono::seconds(5)));
  EXPECT_TRUE(proj->get(provisiond::request_id{"r1"})->has_value());
  proj->stop();
}
