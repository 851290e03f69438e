// Request-summary rows written by older versions still read: format 1 (no
// "format" key; lifecycle state and step statuses as enum ordinals) is read
// as it was written, renders the same API JSON, keeps folding, and is
// rewritten as format 2 (names) when its request moves on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "projections/request_summary.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace pj = provisiond::projections;
using nlohmann::json;

namespace {

// Rows as version 1 wrote them: r-big and r-tiny were written by the binary
// before format 2 (a completed, approved request and one refused by quota);
// r-old is a request placed but not started (written by the format-1 code
// for the events that summary_row_test appends below).
const std::string row_big =
    R"({"admission":{"admitted":true,"approval":{"matched":["minCpu 16 <= cpu 32","types vps","regions eu-west-1"],)"
    R"("priority":10,"ruleId":"rule-1","ruleName":"Big VPS"},"approvalComment":"ok by ops","approvalPending":false,)"
    R"("quotaHeld":true,"rejectionReason":"","reserved":{"cpu":32,"instances":1,"memoryGb":64,"storageGb":40},)"
    R"("violations":[]},"capacity":{"cpu":32,"memoryGb":64,"storageGb":40,"vmSlots":1},"capacityHeld":true,)"
    R"("clusterId":"sim-eu-west-1","compensationAttempts":0,"compensationError":"","compensationRetryAt":0,)"
    R"("createdAt":1796119630252,"createdPosition":24,"credentialKind":"","failureCode":"","failureReason":"",)"
    R"("id":"r-big","lifecycle":{"actionAttempts":0,"actionError":"","actionRetryAt":0,"deprovisioned":false,)"
    R"("deprovisioning":false,"pendingAction":""},"manualMessage":"","outputs":{"health":"passing",)"
    R"("hostname":"r-big.eu-west-1.sim.provisiond.test","http":"http://203.0.113.227/","ipv4":"203.0.113.227",)"
    R"("serverId":"sim-srv-52a6219903de","ssh":"ssh://root@203.0.113.227:22","status":"ACTIVE"},)"
    R"("resources":[{"attributes":{"flavor":"32c64g","hostname":"r-big.eu-west-1.sim.provisiond.test",)"
    R"("privateIp":"10.0.85.104","volumeGb":"40"},"id":"sim-srv-52a6219903de","kind":"server","step":"allocate"},)"
    R"({"attributes":{"ip":"203.0.113.227"},"id":"sim-fip-f2f64512a698","kind":"floating_ip","step":"configure"}],)"
    R"("spec":{"dependsOn":[],"idempotencyKey":"","metadata":{},"orderId":"o-2","provider":"simulation",)"
    R"("region":"eu-west-1","requestHash":"d0863a4329bc5a3c","resources":{"cpu":32,"memoryGb":64,"storageGb":40},)"
    R"("tenantId":"acme","type":"vps"},"state":6,"steps":[{"attempts":1,"compensated":false,"firstAttempt":1,)"
    R"("key":"r-big/allocate/1","lastError":"","retryAt":0,"sent":true,"sentBefore":false,)"
    R"("startedAt":1796119635407,"status":2},{"attempts":1,"compensated":false,"firstAttempt":1,)"
    R"("key":"r-big/configure/1","lastError":"","retryAt":0,"sent":true,"sentBefore":false,)"
    R"("startedAt":1796119635407,"status":2},{"attempts":1,"compensated":false,"firstAttempt":1,)"
    R"("key":"r-big/activate/1","lastError":"","retryAt":0,"sent":true,"sentBefore":false,)"
    R"("startedAt":1796119635407,"status":2},{"attempts":1,"compensated":false,"firstAttempt":1,)"
    R"("key":"r-big/verify/1","lastError":"","retryAt":0,"sent":true,"sentBefore":false,)"
    R"("startedAt":1796119635409,"status":2}],"updatedAt":1796119635409,"version":17})";

// GET /v1/requests/r-big as the binary that wrote row_big answered it.
const std::string rendered_big =
    R"({"allocatedResources":[{"attributes":{"flavor":"32c64g","hostname":"r-big.eu-west-1.sim.provisiond.test",)"
    R"("privateIp":"10.0.85.104","volumeGb":"40"},"id":"sim-srv-52a6219903de","kind":"server","step":"allocate"},)"
    R"({"attributes":{"ip":"203.0.113.227"},"id":"sim-fip-f2f64512a698","kind":"floating_ip","step":"configure"}],)"
    R"("approval":{"comment":"ok by ops","matched":["minCpu 16 <= cpu 32","types vps","regions eu-west-1"],)"
    R"("priority":10,"ruleId":"rule-1","ruleName":"Big VPS","state":"approved"},)"
    R"("clusterCapacity":{"cpu":32,"memoryGb":64,"storageGb":40,"vmSlots":1},"clusterId":"sim-eu-west-1",)"
    R"("createdAt":"2026-12-01T10:07:10.252Z","dependsOn":[],"deprovisioned":false,"endpoints":{"health":"passing",)"
    R"("hostname":"r-big.eu-west-1.sim.provisiond.test","http":"http://203.0.113.227/","ipv4":"203.0.113.227",)"
    R"("serverId":"sim-srv-52a6219903de","ssh":"ssh://root@203.0.113.227:22","status":"ACTIVE"},"id":"r-big",)"
    R"("metadata":{},"orderId":"o-2","provider":"simulation","region":"eu-west-1",)"
    R"("resources":{"cpu":32,"memoryGb":64,"storageGb":40},"state":"Completed","steps":[{"attempts":1,)"
    R"("lastError":null,"name":"allocate","status":"Completed"},{"attempts":1,"lastError":null,"name":"configure",)"
    R"("status":"Completed"},{"attempts":1,"lastError":null,"name":"activate","status":"Completed"},{"attempts":1,)"
    R"("lastError":null,"name":"verify","status":"Completed"}],"tenantId":"acme","type":"vps",)"
    R"("updatedAt":"2026-12-01T10:07:15.409Z","version":17})";

const std::string row_tiny =
    R"({"admission":{"admitted":false,"approval":{"matched":[],"priority":0,"ruleId":"","ruleName":""},)"
    R"("approvalComment":"","approvalPending":false,"quotaHeld":false,"rejectionReason":"",)"
    R"("reserved":{"cpu":0,"instances":0,"memoryGb":0,"storageGb":0},"violations":[{"dimension":"cpu","limit":1,)"
    R"("requested":4,"used":0},{"dimension":"memoryGb","limit":1,"requested":4,"used":0},{"dimension":"storageGb",)"
    R"("limit":1,"requested":40,"used":0}]},"capacity":{"cpu":0,"memoryGb":0,"storageGb":0,"vmSlots":0},)"
    R"("capacityHeld":false,"clusterId":"","compensationAttempts":0,"compensationError":"","compensationRetryAt":0,)"
    R"("createdAt":1796119630266,"createdPosition":27,"credentialKind":"","failureCode":"quota_exceeded",)"
    R"("failureReason":"quota exceeded: cpu 4 requested, 0 used, limit 1; memoryGb 4 requested, 0 used, limit 1; )"
    R"(storageGb 40 requested, 0 used, limit 1","id":"r-tiny","lifecycle":{"actionAttempts":0,"actionError":"",)"
    R"("actionRetryAt":0,"deprovisioned":false,"deprovisioning":false,"pendingAction":""},"manualMessage":"",)"
    R"("outputs":{},"resources":[],"spec":{"dependsOn":[],"idempotencyKey":"","metadata":{},"orderId":"o-3",)"
    R"("provider":"simulation","region":"eu-west-1","requestHash":"ea93aebb7d690db6",)"
    R"("resources":{"cpu":4,"memoryGb":4,"storageGb":40},"tenantId":"tiny","type":"vps"},"state":8,)"
    R"("steps":[{"attempts":0,"compensated":false,"firstAttempt":1,"key":"","lastError":"","retryAt":0,)"
    R"("sent":false,"sentBefore":false,"startedAt":0,"status":0},{"attempts":0,"compensated":false,)"
    R"("firstAttempt":1,"key":"","lastError":"","retryAt":0,"sent":false,"sentBefore":false,"startedAt":0,)"
    R"("status":0},{"attempts":0,"compensated":false,"firstAttempt":1,"key":"","lastError":"","retryAt":0,)"
    R"("sent":false,"sentBefore":false,"startedAt":0,"status":0},{"attempts":0,"compensated":false,)"
    R"("firstAttempt":1,"key":"","lastError":"","retryAt":0,"sent":false,"sentBefore":false,"startedAt":0,)"
    R"("status":0}],"updatedAt":1796119630266,"version":3})";

const std::string rendered_tiny =
    R"({"allocatedResources":[],"clusterId":null,"createdAt":"2026-12-01T10:07:10.266Z","dependsOn":[],)"
    R"("deprovisioned":false,"endpoints":{},"failure":{"code":"quota_exceeded","reason":"quota exceeded: cpu 4 )"
    R"(requested, 0 used, limit 1; memoryGb 4 requested, 0 used, limit 1; storageGb 40 requested, 0 used, limit 1",)"
    R"("violations":[{"dimension":"cpu","limit":1,"requested":4,"used":0},{"dimension":"memoryGb","limit":1,)"
    R"("requested":4,"used":0},{"dimension":"storageGb","limit":1,"requested":40,"used":0}]},"id":"r-tiny",)"
    R"("metadata":{},"orderId":"o-3","provider":"simulation","region":"eu-west-1",)"
    R"("resources":{"cpu":4,"memoryGb":4,"storageGb":40},"state":"Failed","steps":[{"attempts":0,"lastError":null,)"
    R"("name":"allocate","status":"Pending"},{"attempts":0,"lastError":null,"name":"configure","status":"Pending"},)"
    R"({"attempts":0,"lastError":null,"name":"activate","status":"Pending"},{"attempts":0,"lastError":null,)"
    R"("name":"verify","status":"Pending"}],"tenantId":"tiny","type":"vps","updatedAt":"2026-12-01T10:07:10.266Z",)"
    R"("version":3})";

const std::string unstarted_step =
    R"({"attempts":0,"compensated":false,"firstAttempt":1,"key":"","lastError":"","retryAt":0,"sent":false,)"
    R"("sentBefore":false,"startedAt":0,"status":0})";

const std::string row_old =
    R"({"admission":{"admitted":false,"approval":{"matched":[],"priority":0,"ruleId":"","ruleName":""},)"
    R"("approvalComment":"","approvalPending":false,"quotaHeld":false,"rejectionReason":"",)"
    R"("reserved":{"cpu":0,"instances":0,"memoryGb":0,"storageGb":0},"violations":[]},)"
    R"("capacity":{"cpu":1,"memoryGb":2,"storageGb":3,"vmSlots":1},"capacityHeld":true,"clusterId":"sim",)"
    R"("compensationAttempts":0,"compensationError":"","compensationRetryAt":0,"createdAt":1700000001000,)"
    R"("createdPosition":1,"credentialKind":"","failureCode":"","failureReason":"","id":"r-old",)"
    R"("lifecycle":{"actionAttempts":0,"actionError":"","actionRetryAt":0,"deprovisioned":false,)"
    R"("deprovisioning":false,"pendingAction":""},"manualMessage":"","outputs":{},"resources":[],)"
    R"("spec":{"dependsOn":[],"idempotencyKey":"","metadata":{},"orderId":"o-9","provider":"simulation",)"
    R"("region":"eu-west-1","requestHash":"","resources":{"cpu":1,"memoryGb":1,"storageGb":10},"tenantId":"acme",)"
    R"("type":"vps"},"state":0,"steps":[)" +
    unstarted_step + "," + unstarted_step + "," + unstarted_step + "," + unstarted_step +
    R"(],"updatedAt":1700000002000,"version":2})";

struct SummaryRow : ::testing::Test {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<ev::rocksdb_adapter::store> store;
  std::shared_ptr<ev::journal> journal;
  std::shared_ptr<pj::view_store> views;

  void SetUp() override {
    store = *ev::rocksdb_adapter::store::open(dir / "j", provisiond::durability::fast);
    journal = ev::rocksdb_adapter::make_journal(store);
    views = pj::rocksdb_adapter::make_view_store(store);
  }

  // A row and its index entries as version 1 wrote them, with the checkpoint.
  void put_old_row(const std::string& id, const std::string& row, const std::string& tenant, const std::string& state,
                   const std::string& cluster, const std::string& pos, std::uint64_t checkpoint) {
    pj::view_write w;
    w.puts = {{"s/" + id, row},
              {"c/" + pos, id},
              {"t/" + tenant + '\x01' + pos, id},
              {"st/" + state + '\x01' + pos, id},
              {"ts/" + tenant + '\x01' + state + '\x01' + pos, id}};
    if (!cluster.empty()) w.puts.emplace_back("cl/" + cluster + '\x01' + pos, id);
    ASSERT_TRUE(views->commit(w, "request-summary", checkpoint));
  }

  void append(const std::string& id, std::uint64_t expected, std::vector<std::pair<ev::event, provisiond::time_ms>> evs) {
    ev::append_request r;
    r.stream = ev::stream_for_request(id);
    r.expected_sequence = expected;
    for (auto& [e, t] : evs) r.events.push_back(ev::make_pending(e, t));
    ASSERT_TRUE(journal->append(r));
  }

  ev::request_state get(pj::request_summary_projection& p, const std::string& id) {
    auto s = p.get(provisiond::request_id{id});
    EXPECT_TRUE(s.has_value() && s->has_value()) << id;
    return s && *s ? **s : ev::request_state{};
  }
};

}  // namespace

TEST_F(SummaryRow, ReadsFormat1RowsAndRendersThemAsBefore) {
  put_old_row("r-big", row_big, "acme", "Completed", "sim-eu-west-1", "0000000000000018", 0);
  put_old_row("r-tiny", row_tiny, "tiny", "Failed", "", "000000000000001b", 0);
  pj::request_summary_projection proj(journal, views);

  auto big = get(proj, "r-big");
  EXPECT_EQ(big.state, ev::lifecycle::completed);
  EXPECT_EQ(big.steps[3].status, ev::step_status::completed);
  EXPECT_EQ(big.reserved, (ev::quota_amount{1, 32, 64, 40}));
  EXPECT_EQ(big.approval.rule_id, "rule-1");
  EXPECT_EQ(big.approval.matched.size(), 3u);
  EXPECT_EQ(big.resources.size(), 2u);
  EXPECT_EQ(big.resources[1].step, ev::step_kind::configure);
  EXPECT_EQ(big.capacity, (provisiond::cluster_capacity{32, 64, 40, 1}));
  EXPECT_EQ(big.spec.request_hash, "d0863a4329bc5a3c");
  EXPECT_EQ(pj::render_request(big), rendered_big);

  auto tiny = get(proj, "r-tiny");
  EXPECT_EQ(tiny.state, ev::lifecycle::failed);
  EXPECT_EQ(tiny.steps[0].status, ev::step_status::pending);
  ASSERT_EQ(tiny.violations.size(), 3u);
  EXPECT_EQ(tiny.violations[2], (ev::quota_violation{"storageGb", 40, 0, 1}));
  EXPECT_EQ(pj::render_request(tiny), rendered_tiny);

  auto counts = proj.state_counts();
  EXPECT_EQ(counts[static_cast<int>(ev::lifecycle::completed)], 1);
  EXPECT_EQ(counts[static_cast<int>(ev::lifecycle::failed)], 1);
  auto holders = proj.cluster_holders(provisiond::cluster_id{"sim-eu-west-1"});
  ASSERT_TRUE(holders.has_value());
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_EQ(holders->front().id, "r-big");
}

TEST_F(SummaryRow, Format1RowKeepsFoldingAndIsRewrittenAsFormat2) {
  const ev::request_submitted submitted{"acme", "o-9", "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "", {}};
  const ev::cluster_placed placed{"sim", "d", {1, 2, 3, 1}};
  append("r-old", 0, {{submitted, 1700000001000}, {placed, 1700000002000}});
  put_old_row("r-old", row_old, "acme", "Queued", "sim", "0000000000000001", 2);
  pj::request_summary_projection proj(journal, views);

  // The old row is exactly the fold of its two events.
  ev::request_state folded;
  folded.id = "r-old";
  ev::apply_in_place(folded, submitted, 1700000001000);
  ev::apply_in_place(folded, placed, 1700000002000);
  EXPECT_EQ(pj::render_request(get(proj, "r-old")), pj::render_request(folded));
  EXPECT_EQ(proj.state_counts()[static_cast<int>(ev::lifecycle::queued)], 1);

  append("r-old", 2, {{ev::step_started{ev::step_kind::allocate, 1, "r-old/allocate/1"}, 1700000003000}});
  ASSERT_TRUE(proj.catch_up());
  auto s = get(proj, "r-old");
  EXPECT_EQ(s.version, 3u);
  EXPECT_EQ(s.state, ev::lifecycle::allocating);
  EXPECT_EQ(s.steps[0].status, ev::step_status::running);
  EXPECT_EQ(s.steps[0].idempotency_key, "r-old/allocate/1");
  EXPECT_EQ(s.capacity, (provisiond::cluster_capacity{1, 2, 3, 1}));
  EXPECT_EQ(s.created_at, 1700000001000);

  auto row = json::parse(**views->get("s/r-old"));
  EXPECT_EQ(row["format"], 2);
  EXPECT_EQ(row["state"], "Allocating");
  EXPECT_EQ(row["steps"][0]["status"], "Running");
  EXPECT_EQ(row["steps"][1]["status"], "Pending");
  EXPECT_EQ(row["createdPosition"], 1) << "the creation order is kept";

  // The state index moved from the old row's entry to the new one.
  auto queued = proj.in_state(ev::lifecycle::queued);
  auto allocating = proj.in_state(ev::lifecycle::allocating);
  ASSERT_TRUE(queued.has_value() && allocating.has_value());
  EXPECT_TRUE(queued->empty());
  ASSERT_EQ(allocating->size(), 1u);
  EXPECT_EQ(proj.state_counts()[static_cast<int>(ev::lifecycle::queued)], 0);
  EXPECT_EQ(proj.state_counts()[static_cast<int>(ev::lifecycle::allocating)], 1);

  // Upgrading in place gives what a rebuild from the journal gives.
  auto upgraded = pj::render_request(s);
  ASSERT_TRUE(proj.rebuild());
  EXPECT_EQ(pj::render_request(get(proj, "r-old")), upgraded);
}

TEST_F(SummaryRow, Format2RowsRoundTripWithNames) {
  append("r-new", 0,
         {{ev::request_submitted{"acme", "o-1", "vps", "eu-west-1", "simulation", {2, 4, 40}, {{"k", "v"}}, "idem", "h",
                                 {}},
           1700000001000},
          {ev::quota_reserved{{1, 2, 4, 40}}, 1700000001001},
          {ev::approval_requested{"rule-1", "Big", 10, {"minCpu 2 <= 2"}}, 1700000001002},
          {ev::cluster_placed{"sim", "d", {2, 4, 40, 1}}, 1700000001003},
          {ev::step_started{ev::step_kind::allocate, 1, "k1"}, 1700000001004},
          {ev::resource_allocated{{"srv-1", "server", ev::step_kind::allocate, {{"a", "b"}}}}, 1700000001005},
          {ev::step_failed{ev::step_kind::allocate, 1, "timeout", "slow", true, 1700000009000}, 1700000001006},
          {ev::manual_input_requested{ev::step_kind::activate, "waiting"}, 1700000001007}});
  pj::request_summary_projection proj(journal, views);
  ASSERT_TRUE(proj.catch_up());
  auto row = json::parse(**views->get("s/r-new"));
  EXPECT_EQ(row["format"], 2);
  EXPECT_EQ(row["state"], "Allocating");
  EXPECT_EQ(row["steps"][0]["status"], "Failed");
  EXPECT_EQ(row["steps"][2]["status"], "AwaitingManualInput");
  EXPECT_EQ(row["admission"]["reserved"].dump(), R"({"cpu":2,"instances":1,"memoryGb":4,"storageGb":40})");
  EXPECT_EQ(row["resources"][0].dump(), R"({"attributes":{"a":"b"},"id":"srv-1","kind":"server","step":"allocate"})");

  // What is read back is what was folded.
  auto events = journal->read_stream(ev::stream_for_request("r-new"), 1);
  ASSERT_TRUE(events.has_value());
  ev::request_state folded;
  folded.id = "r-new";
  for (auto& env : *events) ev::apply_in_place(folded, *ev::decode(env), env.time);
  auto s = get(proj, "r-new");
  EXPECT_EQ(pj::render_request(s), pj::render_request(folded));
  EXPECT_EQ(s.steps[0].retry_at, 1700000009000);
  EXPECT_EQ(s.approval, folded.approval);
  EXPECT_EQ(s.reserved, folded.reserved);
  EXPECT_EQ(s.manual_message, "waiting");
}

TEST_F(SummaryRow, CorruptOrNewerRowsAreErrorsNotCrashes) {
  pj::view_write w;
  w.puts = {{"s/bad", R"({"id":5})"},
            {"s/future", R"({"format":3,"id":"future"})"},
            {"s/badstate", std::string(row_old).replace(row_old.find(R"("state":0)"), 9, R"("state":"Sleeping")")}};
  ASSERT_TRUE(views->commit(w, "request-summary", 0));
  pj::request_summary_projection proj(journal, views);
  auto bad = proj.get(provisiond::request_id{"bad"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("corrupt request-summary row s/bad"), std::string::npos) << bad.error().message;
  auto future = proj.get(provisiond::request_id{"future"});
  ASSERT_FALSE(future.has_value());
  EXPECT_NE(future.error().message.find("row format 3"), std::string::npos) << future.error().message;
  EXPECT_FALSE(proj.get(provisiond::request_id{"badstate"}).has_value()) << "format 1 stores ordinals; a name there is corrupt";
}
