// Several provisiond instances on loopback sharing `provisiond kafka-dev`,
// a redis-server and one `provisiond sim-cloud`: partitions owned through
// the consumer group and Redis leases, state restored from the changelog,
// writes forwarded to the owner, failover. Label `scaleout`.
#include "tests/scaleout/fixture.hpp"

using namespace provisiond::testing;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_F(ScaleOut, TwoInstancesShareTheTenantsAndEveryRequestReadsBackIdenticallyFromBoth) {
  start_sim(json::object());
  start_instance(0);
  start_instance(1);
  std::vector<std::string> ids;
  std::vector<std::string> kafka_values;
  std::mt19937 rng{42};
  for (int i = 0; i < 120; ++i) {
    std::string tenant = "tenant-" + std::to_string(i % 12), order = "o-" + std::to_string(i);
    if (i % 2 == 0) {
      auto id = submit_http(rng() % 2, tenant, order);
      ASSERT_FALSE(id.empty()) << order;
      ids.push_back(id);
    } else {
      ids.push_back("req-k" + std::to_string(i));
      kafka_values.push_back(kafka_command(tenant, order, ids.back()));
    }
  }
  // Keyed by order, not tenant: most land on a partition their tenant does
  // not live on, and are forwarded to the right one.
  for (auto& v : kafka_values)
    ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {v}, json::parse(v)["orderId"]));
  ASSERT_TRUE(all_terminal(0, ids, 120s));
  wait_no_lag({0, 1});
  for (auto& id : ids) {
    auto a = http_call(port(0), "GET", "/v1/requests/" + id);
    auto b = http_call(port(1), "GET", "/v1/requests/" + id);
    EXPECT_EQ(a.status, 200) << id;
    EXPECT_EQ(a.body, b.body) << id << " differs between the instances";
  }
  check_invariants(0, ids);
  // Both did work: each owns some partitions.
  EXPECT_GT(metric(0, "provisiond_partitions_owned"), 0);
  EXPECT_GT(metric(1, "provisiond_partitions_owned"), 0);
  EXPECT_EQ(metric(0, "provisiond_partitions_owned") + metric(1, "provisiond_partitions_owned"), 8);
}

TEST_F(ScaleOut, KillNineOneOfThreeMidRunItsPartitionsMoveAndNothingIsLostOrDoneTwice) {
  start_sim({{"minDelayMs", 20}, {"maxDelayMs", 80},
             {"steps", {{"allocate", {{"retryable", 0.1}, {"responseLost", 0.05}}}, {"configure", {{"permanent", 0.03}}}}}});
  for (std::size_t k = 0; k < 3; ++k) start_instance(k);
  live = 2;  // instance 2 is killed below
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto id = submit_http(i % 3, "tenant-" + std::to_string(i % 30), "o-" + std::to_string(i));
    ASSERT_FALSE(id.empty());
    ids.push_back(id);
  }
  std::this_thread::sleep_for(1s);
  auto killed_at = std::chrono::steady_clock::now();
  instances[2]->crash();
  ASSERT_TRUE(all_terminal(0, ids, 240s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  wait_no_lag({0, 1});
  check_invariants(0, ids);
  EXPECT_EQ(metric(0, "provisiond_partitions_owned") + metric(1, "provisiond_partitions_owned"), 8)
      << "the killed instance's partitions moved";
  check_changelog_ids();
  // The killed instance comes back: what it had not published is dropped
  // (nobody was told of it), and it reads back what the others hold.
  start_instance(2);
  live = 3;
  wait_no_lag({0, 1, 2});
  EXPECT_EQ(states(2, ids), states(0, ids));
  check_invariants(2, ids);
  std::printf("scaleout/kill-9: %zu requests, all terminal %.1f s after the kill\n", ids.size(), seconds);
}

TEST_F(ScaleOut, AnInstancePausedPastItsLeaseWritesNothingWhenItWakesUp) {
  start_sim({{"minDelayMs", 300}, {"maxDelayMs", 600}});
  start_instance(0, 2000);
  start_instance(1, 2000);
  wait_owned({0, 1});  // so that the paused one has work in hand
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    auto id = submit_http(i % 2, "tenant-" + std::to_string(i % 12), "o-" + std::to_string(i));
    ASSERT_FALSE(id.empty());
    ids.push_back(id);
  }
  std::this_thread::sleep_for(500ms);  // provider calls are in flight on both
  instances[1]->signal(SIGSTOP);
  std::this_thread::sleep_for(10s);  // past the lease (2 s) and the group's session (6 s)
  instances[1]->signal(SIGCONT);
  ASSERT_TRUE(all_terminal(0, ids, 180s));
  wait_no_lag({0, 1});
  check_invariants(0, ids);
  EXPECT_GT(metric(1, "provisiond_fencing_refusals_total"), 0) << "the paused instance was refused";
}

TEST_F(ScaleOut, TwoThousandRequestsFromFiftyTenantsOverHttpAndKafkaWithFaultsEndOnceAndFairly) {
  start_sim({{"minDelayMs", 5}, {"maxDelayMs", 30},
             {"steps",
              {{"allocate", {{"retryable", 0.1}, {"responseLost", 0.05}}},
               {"configure", {{"retryable", 0.05}, {"permanent", 0.02}, {"responseLost", 0.03}}},
               {"verify", {{"permanent", 0.01}}}}}});
  for (std::size_t k = 0; k < 3; ++k) start_instance(k);
  live = 3;
  std::vector<std::string> ids, kafka_values;
  std::mt19937 rng{7};
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    std::string tenant = "tenant-" + std::to_string(i % 50), order = "o-" + std::to_string(i);
    if (i % 2 == 0) {
      ids.push_back(submit_http(rng() % 3, tenant, order));
      ASSERT_FALSE(ids.back().empty()) << order;
    } else {
      ids.push_back("req-k" + std::to_string(i));
      kafka_values.push_back(kafka_command(tenant, order, ids.back()));
    }
  }
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", kafka_values, "any-key"));
  ASSERT_TRUE(all_terminal(0, ids, 600s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  wait_no_lag({0, 1, 2});
  check_invariants(0, ids);
  check_changelog_ids();
  // Per-tenant in flight at every moment, from the changelog: a tenant's
  // events are on one partition in the order its owners wrote them, so
  // replaying them gives every state the tenant went through. A request
  // holds a slot from request_admitted to its end.
  std::map<std::string, std::set<std::string>> holding;
  std::map<std::string, std::size_t> most;
  std::set<std::string> seen;
  for (auto& r : read_topic(kafka.bootstrap(), "provisioning.journal")) {
    auto ce = json::parse(r.value, nullptr, false);
    if (!ce.is_object() || !ce["id"].is_string() || !ce["data"].is_object()) continue;  // reported above
    if (!seen.insert(ce["id"].get<std::string>()).second) continue;  // republished: same bytes, once
    auto tenant = ce["data"].value("tenantId", std::string{});
    auto request = ce.value("subject", std::string{});
    auto type = ce["data"].value("eventType", std::string{});
    if (tenant.empty()) continue;  // admin state, not a tenant's
    if (type == "request_admitted") holding[tenant].insert(request);
    if (type == "request_completed" || type == "request_failed" || type == "rolled_back") holding[tenant].erase(request);
    most[tenant] = std::max(most[tenant], holding[tenant].size());
  }
  std::size_t worst = 0;
  for (auto& [t, n] : most) worst = std::max(worst, n);
  EXPECT_EQ(most.size(), 50u);
  EXPECT_LE(worst, 5u) << "a tenant had more than 5 in flight";
  std::map<std::string, int> by_state;
  for (auto& [id, s] : states(1, ids)) ++by_state[s];
  EXPECT_GT(by_state["Completed"], 1500);
  // A fourth instance with an empty disk restores everything from the changelog.
  auto restore_started = std::chrono::steady_clock::now();
  start_instance(3);
  auto restore_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - restore_started).count();
  wait_no_lag({3});
  EXPECT_EQ(states(3, ids), states(0, ids));
  std::printf("scaleout/2000: all terminal in %.1f s on 3 instances (%.0f req/s; Completed %d, RolledBack %d, Failed "
              "%d); most in flight for one tenant at any moment: %zu; a new instance restored and served them %.1f s "
              "after it was started\n",
              seconds, ids.size() / seconds, by_state["Completed"], by_state["RolledBack"], by_state["Failed"], worst,
              restore_seconds);
}

TEST_F(ScaleOut, ARedisRestartWithoutPersistenceLosesNothingAndNoTokenGoesBackwards) {
  start_sim({{"minDelayMs", 10}, {"maxDelayMs", 40}});
  start_instance(0);
  start_instance(1);
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) {
    ids.push_back(submit_http(i % 2, "tenant-" + std::to_string(i % 15), "o-" + std::to_string(i)));
    ASSERT_FALSE(ids.back().empty());
    if (i == 75) {
      redis->stop();
      ASSERT_TRUE(redis->start());  // empty: every lease and token counter is gone
    }
  }
  ASSERT_TRUE(all_terminal(0, ids, 240s));
  wait_no_lag({0, 1});
  check_invariants(0, ids);
  // Each stream's fencing tokens never decrease (read from the changelog).
  std::map<std::string, std::uint64_t> last;
  int backwards = 0;
  for (auto& r : read_topic(kafka.bootstrap(), "provisioning.journal")) {
    auto j = json::parse(r.value)["data"]["journal"];
    auto& t = last[j["stream"].get<std::string>()];
    if (j["fencingToken"].get<std::uint64_t>() < t) ++backwards;
    t = std::max(t, j["fencingToken"].get<std::uint64_t>());
  }
  EXPECT_EQ(backwards, 0);
}
