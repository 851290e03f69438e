#pragma once
// The scale-out fixture: several provisiond instances on loopback sharing
// `provisiond kafka-dev`, a redis-server and one `provisiond sim-cloud`.
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

namespace provisiond::testing {

using namespace std::chrono_literals;
using nlohmann::json;

inline json parse(const http_reply& r) { return json::parse(r.body, nullptr, false); }

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
             {"secretKeyFile", dir / "secret.key"},  // one key for every instance
             {"auth", {{"adminKeyFile", dir / "admin-api-key"}}}};  // and one admin API key
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

}  // namespace provisiond::testing
