// Several provisiond instances on loopback sharing `provisiond kafka-dev`,
// a redis-server and one `provisiond sim-cloud`: partitions owned through
// the consumer group and Redis leases, state restored from the changelog,
// writes forwarded to the owner, failover. Label `scaleout`.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/webhook_receiver.hpp"

using namespace provisiond::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json parse(const http_reply& r) { return json::parse(r.body, nullptr, false); }

struct ScaleOut : ::testing::Test {
  temp_dir dir;
  kafka_dev_process kafka;
  std::unique_ptr<redis_server> redis;
  announced_process sim;
  std::vector<std::unique_ptr<provisiond_process>> instances;
  std::vector<int> starts;
  std::string last_refusal;
  std::size_t live = 2;  // instances submit_http may fall back to

  void SetUp() override {
    ASSERT_TRUE(kafka.start(dir / "kafka-dev.log", {"--partitions", "8"}));
    redis = std::make_unique<redis_server>(dir / "redis");
    ASSERT_TRUE(redis->start());
  }

  void start_sim(const json& simulation) {
    std::ofstream{dir / "sim.json"} << json{{"simulation", simulation}}.dump();
    ASSERT_TRUE(sim.start({"sim-cloud", "--config", dir / "sim.json", "--data-dir", dir / "sim", "--listen",
                           "127.0.0.1:0"},
                          dir / "sim-cloud.log", "SIM_CLOUD"));
  }

  // Starts (or restarts) instance k.
  json extra_config = json::object();  // merged into every instance's configuration

  void start_instance(std::size_t k, long long lease_ttl = 3000) {
    if (instances.size() <= k) {
      instances.resize(k + 1);
      starts.resize(k + 1, 0);
    }
    json cfg{{"instanceId", "i" + std::to_string(k)},
             {"redis", {{"url", redis->url()}, {"leaseTtlMs", lease_ttl}}},
             {"kafka", {{"bootstrap", kafka.bootstrap()}}},
             {"simulation", {{"cloudUrl", sim.value()}}},
             {"maxInFlightPerTenant", 5},
             {"secretKeyFile", dir / "secret.key"}};  // one key for every instance
    cfg.update(extra_config);
    auto file = dir / ("i" + std::to_string(k) + ".json");
    std::ofstream{file} << cfg.dump();
    instances[k] = std::make_unique<provisiond_process>();
    auto log = dir / ("i" + std::to_string(k) + "-" + std::to_string(++starts[k]) + ".log");
    ASSERT_TRUE(instances[k]->start({"--config", file, "--data-dir", dir / ("data-" + std::to_string(k)), "--listen",
                                     "127.0.0.1:0", "--durability", "fast"},
                                    log))
        << "instance " << k << " did not start; see " << log;
    ports[k] = instances[k]->port();
  }

  std::uint16_t port(std::size_t k) { return ports[k].load(); }
  std::array<std::atomic<std::uint16_t>, 8> ports{};  // as of the last start, for threads that keep sending

  double metric(std::size_t k, const std::string& name) {
    auto text = http_call(port(k), "GET", "/metrics").body;
    double sum = 0;
    std::istringstream in{text};
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name, 0) == 0 && line.size() > name.size() && (line[name.size()] == ' ' || line[name.size()] == '{'))
        sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    return sum;
  }

  // Waits until the group has settled: each of them owns partitions, and
  // all 8 are owned.
  void wait_owned(const std::vector<std::size_t>& which) {
    for (int i = 0; i < 1200; ++i) {
      double sum = 0;
      bool each = true;
      for (auto k : which) {
        auto owned = metric(k, "provisiond_partitions_owned");
        sum += owned;
        each = each && owned > 0;
      }
      if (each && sum == 8) return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the partitions were not shared out in 60 s";
  }

  // Waits until everything any of them wrote is on Kafka, then until every
  // one of them has applied the whole changelog and folded it.
  void wait_no_lag(const std::vector<std::size_t>& which) {
    auto settled = [&](const char* name) {
      for (int i = 0; i < 600; ++i) {
        bool all = true;
        for (auto k : which) all = all && metric(k, name) == 0;
        if (all) return true;
        std::this_thread::sleep_for(50ms);
      }
      return false;
    };
    EXPECT_TRUE(settled("provisiond_outbox_pending")) << "the outboxes did not empty in 30 s";
    for (int i = 0; i < 600; ++i) {
      bool all = true;
      for (auto k : which)
        all = all && metric(k, "provisiond_replica_lag_records") == 0 && metric(k, "provisiond_projection_lag_events") == 0;
      if (all) return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the replicas did not catch up in 30 s";
  }

  // Submits over HTTP to instance k (any instance answers: forwarded to the
  // owner); while k is down or refuses, the next one is tried.
  std::string submit_http(std::size_t k, const std::string& tenant, const std::string& order,
                          const std::string& region = "eu-west-1") {
    json body{{"tenantId", tenant}, {"orderId", order}, {"type", "vps"}, {"region", region},
              {"resources", {{"cpu", 1}, {"memoryGb", 2}, {"storageGb", 20}}}};
    for (int attempt = 0; attempt < 200; ++attempt) {
      auto r = http_call(port((k + attempt) % live), "POST", "/v1/requests", body.dump(),
                         {{"Content-Type", "application/json"}, {"Idempotency-Key", order}});
      auto j = parse(r);
      if ((r.status == 202 || r.status == 200) && j.is_object() && j["id"].is_string()) return j["id"];
      last_refusal = std::to_string(r.status) + " " + r.body;
      std::this_thread::sleep_for(100ms);  // 503 while the partition moves: retry, same key
    }
    ADD_FAILURE() << "instance " << k << " kept refusing " << order << ": " << last_refusal;
    return "";
  }

  static std::string kafka_command(const std::string& tenant, const std::string& order, const std::string& id) {
    return json{{"commandId", "cmd-" + order}, {"command", "provision"}, {"tenantId", tenant}, {"orderId", order},
                {"id", id}, {"type", "vps"}, {"region", "eu-west-1"},
                {"resources", {{"cpu", 1}, {"memoryGb", 2}, {"storageGb", 20}}}}
        .dump();
  }

  // The terminal state of each request as instance k's read model has it.
  std::map<std::string, std::string> states(std::size_t k, const std::vector<std::string>& ids) {
    std::map<std::string, std::string> out;
    for (auto& id : ids) {
      auto r = http_call(port(k), "GET", "/v1/requests/" + id);
      auto j = parse(r);
      out[id] = r.status == 200 && j.is_object() && j["state"].is_string()
                    ? j["state"].get<std::string>()
                    : "(" + std::to_string(r.status) + " " + r.body.substr(0, 200) + ")";
    }
    return out;
  }

  bool all_terminal(std::size_t k, const std::vector<std::string>& ids, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = states(k, ids);
      if (std::all_of(s.begin(), s.end(), [](auto& kv) {
            return kv.second == "Completed" || kv.second == "Failed" || kv.second == "RolledBack";
          }))
        return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  // No event id on the changelog twice with different bytes (a record
  // published again after a lost delivery report is the same record).
  void check_changelog_ids() {
    std::map<std::string, std::string> seen;
    std::size_t repeated = 0;
    for (auto& r : read_topic(kafka.bootstrap(), "provisioning.journal")) {
      auto ce = json::parse(r.value, nullptr, false);
      if (!ce.is_object() || !ce["id"].is_string() || !ce["data"].is_object()) {
        ADD_FAILURE() << "not a changelog record: " << r.value.substr(0, 300);
        continue;
      }
      auto id = ce["id"].get<std::string>();
      auto stored = ce["data"]["journal"].dump();
      auto [it, fresh] = seen.emplace(id, stored);
      if (!fresh) {
        ++repeated;
        EXPECT_EQ(it->second, stored) << "event " << id << " was published twice with different bytes";
      }
    }
    RecordProperty("republished", static_cast<int>(repeated));
  }

  // The invariants of the issue, read from instance k and the shared ledger.
  void check_invariants(std::size_t k, const std::vector<std::string>& ids) {
    auto s = states(k, ids);
    http_reply reply;
    json ledger;
    for (int attempt = 0; attempt < 5 && !ledger.is_array(); ++attempt) {  // a read through the instance to the sim-cloud
      if (attempt > 0) std::this_thread::sleep_for(1s);
      reply = http_call(port(k), "GET", "/v1/simulation/ledger");
      ledger = parse(reply);
    }
    ASSERT_TRUE(ledger.is_array()) << "the shared ledger: " << reply.status << " " << reply.body.substr(0, 300);
    std::map<std::pair<std::string, std::string>, int> per_step;
    for (auto& e : ledger) ++per_step[{e["requestId"].get<std::string>(), e["step"].get<std::string>()}];
    for (auto& [key, n] : per_step) EXPECT_EQ(n, 1) << "resources of " << key.first << " " << key.second;
    for (auto& id : ids) {
      auto evs = parse(http_call(port(k), "GET", "/v1/requests/" + id + "/events"));
      ASSERT_TRUE(evs.is_array()) << id;
      int terminal = 0;
      for (std::size_t i = 0; i < evs.size(); ++i) {
        EXPECT_EQ(evs[i]["seq"], i + 1) << id << ": sequence 1..n";
        auto t = evs[i]["type"].get<std::string>();
        terminal += t == "request_completed" || t == "request_failed" || t == "rolled_back";
      }
      EXPECT_GE(terminal, 1) << id << " (" << s[id] << ")";
      if (s[id] == "RolledBack") {
        for (auto step : {"allocate", "configure", "activate", "verify"})
          EXPECT_EQ(per_step.count({id, step}), 0u) << id << " rolled back but holds " << step;
      }
    }
  }
};

}  // namespace

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

TEST_F(ScaleOut, ARollingRestartOfEveryInstanceUnderLoadLosesNothingAndCreatesNothingTwice) {
  start_sim({{"minDelayMs", 10}, {"maxDelayMs", 40}, {"steps", {{"allocate", {{"responseLost", 0.05}}}}}});
  for (std::size_t k = 0; k < 3; ++k) start_instance(k);
  live = 3;
  std::vector<std::string> ids;
  std::atomic<bool> loading{true};
  std::atomic<int> sent{0};
  std::mutex ids_mutex;
  std::thread load([&] {
    for (int i = 0; loading || i < 400; ++i) {
      auto id = submit_http(i % 3, "tenant-" + std::to_string(i % 30), "o-" + std::to_string(i));
      std::lock_guard lock{ids_mutex};
      if (!id.empty()) ids.push_back(id);
      ++sent;
    }
  });
  for (std::size_t k = 0; k < 3; ++k) {
    while (sent.load() < 60 * static_cast<int>(k + 1)) std::this_thread::sleep_for(50ms);
    EXPECT_EQ(instances[k]->terminate(), 0) << "instance " << k << " stops cleanly";
    start_instance(k);
  }
  loading = false;
  load.join();
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(sent.load())) << "every write was answered 202 in the end";
  ASSERT_TRUE(all_terminal(0, ids, 300s));
  wait_no_lag({0, 1, 2});
  check_invariants(0, ids);
}

TEST_F(ScaleOut, ClusterCapacityIsSharedSoTwoInstancesNeverPlacePastItsTotalEvenAfterRedisLosesIt) {
  // One cluster with room for 6 VMs, known to both instances.
  extra_config = {{"clusters",
                   {{{"id", "tiny"}, {"type", "simulation"}, {"region", "test-1"}, {"default", true},
                     {"capacity", {{"cpu", 1000}, {"memoryGb", 1000}, {"storageGb", 100000}, {"vmSlots", 6}}},
                     {"health", "online"}, {"provisioningEnabled", true}, {"connection", json::object()}}}}};
  start_sim(json::object());
  start_instance(0);
  start_instance(1);
  auto run = [&](int from, int to) {
    std::vector<std::string> ids;
    for (int i = from; i < to; ++i) {
      auto id = submit_http(i % 2, "tenant-" + std::to_string(i % 10), "cap-" + std::to_string(i), "test-1");
      EXPECT_FALSE(id.empty());
      ids.push_back(id);
    }
    EXPECT_TRUE(all_terminal(0, ids, 120s));
    return ids;
  };
  auto completed_of = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (auto& [id, st] : states(0, ids))
      if (st == "Completed") out.push_back(id);
    return out;
  };
  auto first = run(0, 20);
  auto completed = completed_of(first);
  EXPECT_EQ(completed.size(), 6u) << "the 20 requests came through both instances; the cluster holds 6";
  for (auto& [id, st] : states(0, first)) {
    if (st == "Completed") continue;
    EXPECT_EQ(st, "Failed") << id;
    auto evs = parse(http_call(port(0), "GET", "/v1/requests/" + id + "/events"));
    EXPECT_NE(evs.dump().find("vmSlots needs 1, 0 free"), std::string::npos) << id << ": " << evs.dump();
  }
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = parse(http_call(port(k), "GET", "/v1/clusters/tiny"));
    EXPECT_EQ(c["used"]["vmSlots"], 6) << "instance " << k << ": " << c.dump();
  }

  // Redis loses everything; two services are deprovisioned meanwhile. The
  // counters are rebuilt from the journal at the next placement: 4 still held.
  redis->stop();
  ASSERT_TRUE(redis->start());
  ASSERT_GE(completed.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    http_reply r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = http_call(port(attempt % 2), "POST", "/v1/requests/" + completed[i] + "/deprovision", "{}",
                    {{"Content-Type", "application/json"}});
      if (r.status == 202 || r.status == 200) break;
      std::this_thread::sleep_for(100ms);  // 503 while the leases are taken again
    }
    EXPECT_TRUE(r.status == 202 || r.status == 200) << r.status << " " << r.body;
  }
  auto deprovisioned = [&] {
    auto s = states(0, {completed[0], completed[1]});
    return s[completed[0]] == "RolledBack" && s[completed[1]] == "RolledBack";  // deprovisioned
  };
  for (int i = 0; i < 600 && !deprovisioned(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(deprovisioned());
  wait_no_lag({0, 1});
  auto second = run(20, 30);
  EXPECT_EQ(completed_of(second).size(), 2u) << "6 slots, 4 held: exactly 2 more fit";
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = parse(http_call(port(k), "GET", "/v1/clusters/tiny"));
    EXPECT_EQ(c["used"]["vmSlots"], 6) << "instance " << k << ": " << c.dump();
  }
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  check_invariants(0, all);
}

TEST_F(ScaleOut, ClustersRulesQuotasAndSecretsWrittenOnOneInstanceServeTheOthersAndNoPlaintextIsOnKafka) {
  start_sim(json::object());
  start_instance(0);
  start_instance(1);
  // Admin writes retry while the admin partition's lease is still being taken.
  // (and 503 "busy forwarding", like any client told Retry-After).
  auto call = [&](std::size_t k, const std::string& method, const std::string& path, const std::string& body,
                  std::map<std::string, std::string> headers) {
    http_reply r;
    for (int attempt = 0; attempt < 300; ++attempt) {
      r = http_call(port(k), method, path, body, headers);
      if (r.status != 503) break;
      std::this_thread::sleep_for(100ms);
    }
    return r;
  };
  auto write = [&](std::size_t k, const std::string& method, const std::string& path, const json& body) {
    return call(k, method, path, body.dump(), {{"Content-Type", "application/json"}});
  };
  const std::string token = "cluster-token-Zq81xW", password = "delivered-pw-8Hn2Lk";
  auto created = write(1, "POST", "/v1/clusters",
                       {{"id", "api-sim"}, {"type", "simulation"}, {"region", "api-1"}, {"default", true},
                        {"capacity", {{"cpu", 100}, {"memoryGb", 100}, {"storageGb", 1000}, {"vmSlots", 10}}},
                        {"connection", {{"apiToken", token}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(write(0, "POST", "/v1/clusters",
                  {{"id", "api-manual"}, {"type", "manual"}, {"region", "api-1"},
                   {"capacity", {{"cpu", 100}, {"memoryGb", 100}, {"storageGb", 1000}, {"vmSlots", 10}}}})
                .status,
            201);
  auto again = write(0, "POST", "/v1/clusters",
                     {{"id", "api-sim"}, {"type", "simulation"}, {"region", "api-1"},
                      {"capacity", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}, {"vmSlots", 1}}}});
  EXPECT_EQ(again.status, 409) << "the same answer as on one instance: " << again.body;
  ASSERT_EQ(write(0, "PUT", "/v1/tenants/t-quota/quota", {{"maxCpu", 2}}).status, 200);
  ASSERT_EQ(write(1, "POST", "/v1/approval-rules", {{"name", "gate t-ruled"}, {"priority", 5}, {"tenantId", "t-ruled"}})
                .status,
            201);
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = http_call(port(k), "GET", "/v1/clusters/api-sim");
    EXPECT_EQ(c.status, 200) << "instance " << k;
    EXPECT_EQ(c.body.find(token), std::string::npos);
    EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/tenants/t-quota/quota"))["maxCpu"], 2) << "instance " << k;
    EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/approval-rules"))["items"].size(), 1u) << "instance " << k;
  }

  // Requests of tenants owned by either instance see the same admin state.
  std::vector<std::string> placed, over_quota, gated;
  for (int i = 0; i < 6; ++i)
    placed.push_back(submit_http(i % 2, "t-api-" + std::to_string(i), "api-" + std::to_string(i), "api-1"));
  json big{{"tenantId", "t-quota"}, {"orderId", "q-1"}, {"type", "vps"}, {"region", "api-1"},
           {"resources", {{"cpu", 4}, {"memoryGb", 2}, {"storageGb", 20}}}};
  auto q = write(1, "POST", "/v1/requests", big);
  ASSERT_EQ(q.status, 202) << q.body;
  over_quota.push_back(parse(q)["id"]);
  gated.push_back(submit_http(0, "t-ruled", "ruled-1", "api-1"));
  ASSERT_TRUE(all_terminal(0, placed, 60s));
  wait_no_lag({0, 1});
  for (auto& [id, st] : states(1, placed)) EXPECT_EQ(st, "Completed") << id;
  ASSERT_TRUE(all_terminal(0, over_quota, 60s));
  EXPECT_EQ(parse(http_call(port(0), "GET", "/v1/requests/" + over_quota[0]))["failure"]["code"], "quota_exceeded");
  std::string gated_state;
  for (int i = 0; i < 100 && gated_state != "PendingApproval"; ++i, std::this_thread::sleep_for(100ms))
    gated_state = states(1, gated)[gated[0]];
  EXPECT_EQ(gated_state, "PendingApproval");

  // A manual delivery completed through one instance; the tenant fetches the
  // credential from the other, once.
  auto manual = submit_http(0, "t-manual", "manual-1", "api-1");
  json spec{{"tenantId", "t-manual"}, {"orderId", "manual-2"}, {"type", "vps"}, {"region", "api-1"},
            {"provider", "manual"}, {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 10}}}};
  auto m = write(1, "POST", "/v1/requests", spec);
  ASSERT_EQ(m.status, 202) << m.body;
  std::string mid = parse(m)["id"];
  json r;
  for (int i = 0; i < 300; ++i, std::this_thread::sleep_for(50ms)) {
    r = parse(http_call(port(0), "GET", "/v1/requests/" + mid));
    if (r.contains("steps") && r["steps"][2]["status"] == "AwaitingManualInput") break;
  }
  ASSERT_EQ(r["steps"][2]["status"], "AwaitingManualInput") << r.dump();
  auto done = write(0, "POST", "/v1/requests/" + mid + "/complete",
                    {{"host", "10.9.8.7"}, {"username", "root"}, {"password", password}});
  ASSERT_EQ(done.status, 200) << done.body;
  ASSERT_TRUE(all_terminal(1, {mid, manual}, 60s));
  auto cred = call(1, "GET", "/v1/requests/" + mid + "/credentials", "", {{"X-Tenant-Id", "t-manual"}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  EXPECT_EQ(parse(cred)["password"], password);
  EXPECT_EQ(call(0, "GET", "/v1/requests/" + mid + "/credentials", "", {{"X-Tenant-Id", "t-manual"}}).status, 404)
      << "delivered once, whichever instance is asked";

  // Sealed on provisioning.secrets; neither secret is in any record in the clear.
  auto sealed = read_topic(kafka.bootstrap(), "provisioning.secrets");
  EXPECT_GE(sealed.size(), 2u) << "the cluster token and the credential (and the credential's tombstone)";
  for (const auto* topic : {"provisioning.secrets", "provisioning.journal", "provisioning.commands"})
    for (auto& rec : read_topic(kafka.bootstrap(), topic)) {
      EXPECT_EQ(rec.value.find(token), std::string::npos) << topic;
      EXPECT_EQ(rec.value.find(password), std::string::npos) << topic;
    }
}

TEST_F(ScaleOut, WebhooksAreSentByTheTenantsOwnerOncePerEventAndAFailoverSendsOnlyWhatWasNotSettled) {
  webhook_receiver receiver;
  std::string why;
  ASSERT_TRUE(receiver.start(&why)) << why;
  extra_config = {{"webhooks", {{"allow", {"127.0.0.1/32"}}, {"retryDelaysMs", {200, 400, 800}}}}};
  start_sim({{"minDelayMs", 20}, {"maxDelayMs", 60}});
  start_instance(0);
  start_instance(1);
  wait_owned({0, 1});
  // Endpoint writes are admin state: sent to either instance, written by the admin owner.
  std::map<std::string, std::string> secret;  // tenant → its endpoint's secret
  for (int t = 0; t < 8; ++t) {
    std::string tenant = "hooked-" + std::to_string(t);
    json types = completed_request_types;  // every event of the stream, under its journal type
    json body{{"url", receiver.url("/ok/" + tenant)}, {"events", types}};
    http_reply r;
    for (int attempt = 0; attempt < 50 && r.status != 201; ++attempt) {
      r = http_call(port(t % 2), "POST", "/v1/tenants/" + tenant + "/webhooks", body.dump());
      if (r.status != 201) std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(r.status, 201) << r.body;
    secret[tenant] = parse(r)["secret"];
  }
  wait_no_lag({0, 1});
  for (std::size_t k = 0; k < 2; ++k)
    for (auto& [tenant, unused] : secret)
      EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks"))["items"].size(), 1u)
          << "instance " << k << " knows " << tenant << "'s endpoint";

  // What the receiver got per event: the delivery ids and how many times.
  auto received = [&] {
    std::map<std::string, std::pair<std::set<std::string>, int>> out;
    for (auto& [key, seen] : receiver.by_event()) out[key.first] = seen;
    return out;
  };
  auto events_of = [&](const std::vector<std::string>& ids) {
    std::set<std::string> out;
    for (auto& id : ids)
      for (auto& e : parse(http_call(port(0), "GET", "/v1/requests/" + id + "/events")))
        if (std::count(completed_request_types.begin(), completed_request_types.end(), e["type"].get<std::string>()))
          out.insert(e["eventId"]);  // the types subscribed to (a resumed request may add others)
    return out;
  };
  auto wait_delivered = [&](const std::set<std::string>& expected) {
    for (int i = 0; i < 600; ++i) {
      auto got = received();
      if (std::all_of(expected.begin(), expected.end(), [&](auto& e) { return got.count(e); })) return;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "not every event was delivered in 60 s";
  };

  std::vector<std::string> first;
  for (int i = 0; i < 32; ++i) first.push_back(submit_http(i % 2, "hooked-" + std::to_string(i % 8), "w1-" + std::to_string(i)));
  ASSERT_TRUE(all_terminal(0, first, 120s));
  wait_no_lag({0, 1});
  auto expected = events_of(first);
  wait_delivered(expected);
  auto got = received();
  for (auto& e : expected) {
    EXPECT_EQ(got[e].first.size(), 1u) << e;
    EXPECT_EQ(got[e].second, 1) << e << ": sent by one instance, once";
  }
  for (auto& [tenant, s] : secret) {
    auto v = receiver.verify_all(s, "/ok/" + tenant);
    EXPECT_EQ(v["verified"], v["total"]) << tenant << ": " << v.dump();
  }
  // Every outcome is recorded and on the changelog before the kill.
  for (int i = 0; i < 300 && metric(0, "provisiond_webhook_deliveries_total") +
                                     metric(1, "provisiond_webhook_deliveries_total") < expected.size();
       ++i)
    std::this_thread::sleep_for(50ms);
  wait_no_lag({0, 1});

  // Each instance's own record (not forwarded): nothing of the first batch is
  // pending anywhere, whoever sent it.
  for (std::size_t k = 0; k < 2; ++k)
    for (auto& [tenant, unused] : secret) {
      auto hooks = parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks"));
      std::string hook = hooks["items"][0]["id"];
      std::size_t pending = 0;
      for (int i = 0; i < 100; ++i) {
        auto page = parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks/" + hook +
                                                        "/deliveries?status=pending&limit=500",
                                    "", {{"x-provisiond-forwarded", "test"}}));
        pending = page["items"].size();
        if (pending == 0) break;
        std::this_thread::sleep_for(100ms);
      }
      EXPECT_EQ(pending, 0u) << "instance " << k << " still has " << tenant << "'s deliveries pending";
    }

  // kill -9 one instance with a second batch under way: its tenants move; the
  // survivor sends what was not settled (the first batch was), one id per event.
  live = 1;
  std::vector<std::string> second;
  for (int i = 0; i < 32; ++i) second.push_back(submit_http(0, "hooked-" + std::to_string(i % 8), "w2-" + std::to_string(i)));
  std::this_thread::sleep_for(300ms);
  instances[1]->crash();
  ASSERT_TRUE(all_terminal(0, second, 180s));
  wait_no_lag({0});
  auto more = events_of(second);
  wait_delivered(more);
  got = received();
  std::size_t resent_first = 0, twice = 0;
  for (auto& e : expected) resent_first += got[e].second > 1;
  for (auto& e : more) {
    EXPECT_EQ(got[e].first.size(), 1u) << e << " got " << got[e].first.size() << " delivery ids";
    twice += got[e].second > 1;
  }
  EXPECT_EQ(resent_first, 0u) << "deliveries settled before the kill were sent again";
  std::printf("scaleout/webhooks: %zu + %zu events delivered; after the kill %zu of the second batch arrived twice (same id)\n",
              expected.size(), more.size(), twice);
}
