// Restore from the changelog: one journal's relay publishes to the mock
// cluster, another journal's replica applies provisioning.journal.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "events/kafka/journal_replica.hpp"
#include "events/kafka/kafka.hpp"
#include "events/kafka/partitioning.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond;
using namespace provisiond::events::kafka;
using namespace std::chrono_literals;
namespace ev = provisiond::events;
using nlohmann::json;

namespace {

struct JournalReplica : ::testing::Test {
  provisiond::testing::temp_dir dir;
  kafka_config cfg;
  std::unique_ptr<mock_cluster> kafka;

  void SetUp() override {
    cfg.group_id = "replica-test";
    auto m = mock_cluster::start(1, event_topics(cfg));
    ASSERT_TRUE(m.has_value());
    kafka = std::move(*m);
  }

  std::shared_ptr<ev::journal> open(const std::string& name) {
    auto s = ev::rocksdb_adapter::store::open(dir / name, durability::fast);
    EXPECT_TRUE(s.has_value());
    return ev::rocksdb_adapter::make_journal(*s);
  }

  // A request's first events, written with `token`.
  static void write_request(ev::journal& j, const std::string& id, const std::string& tenant, std::uint64_t token) {
    ev::request_submitted spec;
    spec.tenant_id = tenant;
    spec.order_id = "o-" + id;
    spec.type = "vps";
    spec.region = "eu-west-1";
    spec.provider = "simulation";
    ev::append_request req;
    req.stream = ev::stream_for_request(id);
    req.fencing_token = token;
    req.events.push_back(ev::make_pending(spec, 1000));
    req.events.push_back(ev::make_pending(ev::cluster_placed{"sim-eu", "the only one", {1, 1, 1, 1}}, 1001));
    ASSERT_TRUE(j.append(req).has_value());
    ev::append_request more;
    more.stream = req.stream;
    more.expected_sequence = 2;
    more.fencing_token = token;
    more.events.push_back(ev::make_pending(ev::step_started{ev::step_kind::allocate, 1, id + "/allocate/1"}, 1002));
    ASSERT_TRUE(j.append(more).has_value());
  }

  static void expect_same_streams(ev::journal& a, ev::journal& b, const std::vector<std::string>& ids) {
    for (auto& id : ids) {
      auto sa = a.read_stream(ev::stream_for_request(id), 1);
      auto sb = b.read_stream(ev::stream_for_request(id), 1);
      ASSERT_TRUE(sa.has_value() && sb.has_value());
      ASSERT_EQ(sa->size(), sb->size()) << id;
      for (std::size_t i = 0; i < sa->size(); ++i) {
        EXPECT_EQ((*sa)[i].event_id, (*sb)[i].event_id);
        EXPECT_EQ((*sa)[i].type, (*sb)[i].type);
        EXPECT_EQ((*sa)[i].payload, (*sb)[i].payload);
        EXPECT_EQ((*sa)[i].time, (*sb)[i].time);
        EXPECT_EQ((*sa)[i].fencing_token, (*sb)[i].fencing_token);
      }
    }
  }
};

}  // namespace

TEST_F(JournalReplica, AnotherInstancesEventsAreRestoredOnceOnTheTenantsPartition) {
  auto a = open("a");
  auto b = open("b");
  outbox_relay relay{a, kafka->bootstrap(), cfg};
  ASSERT_TRUE(relay.start());
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("req-" + std::to_string(i));
    write_request(*a, ids.back(), "tenant-" + std::to_string(i % 5), 4);
  }
  journal_replica replica{b, kafka->bootstrap(), cfg, dir / "b-replica"};
  ASSERT_TRUE(replica.start());
  for (int i = 0; i < 100 && relay.published() < 60; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(relay.published(), 60u);
  ASSERT_TRUE(replica.caught_up(20s));
  expect_same_streams(*a, *b, ids);
  EXPECT_EQ(replica.counts().restored, 60u);
  EXPECT_EQ(replica.lag(), 0);
  EXPECT_TRUE(b->read_outbox(0, 100)->empty()) << "restored events are not published again";

  // Every changelog record is on its tenant's partition.
  auto records = provisiond::testing::read_topic(kafka->bootstrap(), "provisioning.journal");
  ASSERT_EQ(records.size(), 60u);
  for (auto& r : records) {
    auto tenant = json::parse(r.value)["data"]["tenantId"].get<std::string>();
    EXPECT_EQ(r.partition, partition_of(tenant, 4)) << tenant;
  }

  // A restart resumes from the checkpoint: nothing is applied twice.
  replica.stop();
  journal_replica again{b, kafka->bootstrap(), cfg, dir / "b-replica"};
  ASSERT_TRUE(again.start());
  ASSERT_TRUE(again.caught_up(20s));
  EXPECT_EQ(again.counts().restored + again.counts().held, 0u) << "the checkpoint covered everything";
  relay.stop(1s);
}

TEST_F(JournalReplica, EventsThisJournalHoldsAlreadyAreNoOpsAndAStaleWritersEventIsRefused) {
  auto a = open("a");
  outbox_relay relay{a, kafka->bootstrap(), cfg};
  ASSERT_TRUE(relay.start());
  write_request(*a, "req-x", "acme", 4);
  for (int i = 0; i < 100 && relay.published() < 3; ++i) std::this_thread::sleep_for(50ms);
  // The writer's own replica sees its own events: held, not appended again.
  journal_replica own{a, kafka->bootstrap(), cfg, ""};
  ASSERT_TRUE(own.start());
  ASSERT_TRUE(own.caught_up(20s));
  EXPECT_EQ(own.counts().held, 3u);
  EXPECT_EQ(own.counts().restored, 0u);

  // A newer owner (token 9) appended #4; then a paused old owner (token 4)
  // publishes its own #4 and #5 late. Both are refused; the stream keeps
  // the newer owner's events.
  ev::append_request newer;
  newer.stream = ev::stream_for_request("req-x");
  newer.expected_sequence = 3;
  newer.fencing_token = 9;
  newer.events.push_back(ev::make_pending(ev::step_failed{ev::step_kind::allocate, 1, "timeout", "no answer", true, 0}, 2000));
  ASSERT_TRUE(a->append(newer).has_value());
  auto stale_record = [&](std::uint64_t seq) {
    ev::envelope env;
    env.stream = newer.stream;
    env.sequence = seq;
    env.fencing_token = 4;
    auto p = ev::make_pending(ev::step_completed{ev::step_kind::allocate, 1, {}, false}, 2001);
    env.type = p.type;
    env.payload = p.payload;
    env.time = p.time;
    ev::request_state after;
    after.spec.tenant_id = "acme";
    return records_for(env, ev::event{ev::step_completed{}}, after, cfg).back().value;
  };
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), "provisioning.journal",
                                           {stale_record(4), stale_record(5), "not a journal record"}, "req-x"));
  for (int i = 0; i < 200 && own.counts().refused + own.counts().diverged < 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(own.counts().refused, 2u) << "token 4 < 9: the stale writer is refused";
  EXPECT_EQ(own.counts().malformed, 1u);
  auto stream = a->read_stream(newer.stream, 1);
  ASSERT_EQ(stream->size(), 4u);
  EXPECT_EQ(stream->back().type, "step_failed");
  EXPECT_EQ(stream->back().fencing_token, 9u);
  relay.stop(1s);
}
