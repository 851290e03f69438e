// Broker outage: the mock brokers go down for over 10 s while 500 requests
// run; the pipeline does not wait for Kafka, and after the brokers return
// every expected event id is on its topic.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "actors/engine.hpp"
#include "events/kafka/kafka.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "tests/integration/journal_check.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/sim_engine.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond;
namespace ev = provisiond::events;
using nlohmann::json;
using namespace std::chrono_literals;

TEST(KafkaOutage, EventsQueueInTheOutboxAndAllArriveAfterTheBrokersReturn) {
  provisiond::testing::temp_dir dir;
  kafka_config kcfg;
  auto mock = *ev::kafka::mock_cluster::start(3, ev::kafka::event_topics(kcfg));
  simulation_config sim_cfg;
  sim_cfg.min_delay_ms = 1;
  sim_cfg.max_delay_ms = 5;
  provisiond::testing::sim_engine env{dir.str(), durability::fast, sim_cfg};
  auto& engine = *env.engine;
  auto journal = env.journal;
  ev::kafka::outbox_relay relay{journal, mock->bootstrap(), kcfg};
  ASSERT_TRUE(relay.start());

  // Kafka up: a first batch goes through.
  auto submit = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      actors::submit_command c;
      c.spec = ev::request_submitted{"acme", "o-" + std::to_string(i), "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "", {}};
      ASSERT_TRUE(engine.submit(c).has_value());
    }
  };
  submit(0, 50);
  auto wait_idle = [&](std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (engine.live_actors() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return engine.live_actors() == 0;
  };
  ASSERT_TRUE(wait_idle(30s));

  mock->set_down(true);
  auto down_at = std::chrono::steady_clock::now();
  submit(50, 550);
  // The pipeline does not wait for Kafka: all 500 finish during the outage.
  ASSERT_TRUE(wait_idle(60s));
  auto finished_in = std::chrono::steady_clock::now() - down_at;
  EXPECT_LT(finished_in, 10s) << "requests should not wait for the brokers";
  auto pending = journal->read_outbox(0, 1'000'000);
  EXPECT_GT(pending->size(), 500u * 10) << "the outbox holds what could not be published";
  std::this_thread::sleep_until(down_at + 11s);
  mock->set_down(false);

  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!journal->read_outbox(0, 1)->empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(journal->read_outbox(0, 1)->empty()) << "outbox did not drain";
  relay.stop(5s);
  engine.shutdown(5s);

  // Every journal event is on provisioning.journal; every completion on provisioning.completed.
  std::set<std::string> expected, completed_expected;
  auto all = journal->read_all(1, 1'000'000);
  for (auto& e : *all) {
    expected.insert(e.event_id);
    if (e.type == "request_completed") completed_expected.insert(e.event_id);
  }
  EXPECT_EQ(completed_expected.size(), 550u);
  std::set<std::string> got, completed_got;
  std::map<std::string, std::uint64_t> last_seq;
  for (auto& r : provisiond::testing::read_topic(mock->bootstrap(), "provisioning.journal")) {
    auto ce = json::parse(r.value);
    got.insert(ce["id"].get<std::string>());
    // Per request, events arrive in stream order (same key → same partition).
    auto seq = ce["data"]["sequence"].get<std::uint64_t>();
    EXPECT_GT(seq, last_seq[r.key]) << r.key;
    last_seq[r.key] = seq;
  }
  for (auto& r : provisiond::testing::read_topic(mock->bootstrap(), "provisioning.completed"))
    completed_got.insert(json::parse(r.value)["id"].get<std::string>());
  std::vector<std::string> missing;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " events missing, e.g. " << (missing.empty() ? "" : missing[0]);
  EXPECT_EQ(completed_got, completed_expected);
  std::printf("outage: %zu events, %zu on provisioning.journal after the outage, requests finished %.1f s into it\n",
              expected.size(), got.size(), std::chrono::duration<double>(finished_in).count());
}
