// Throughput with 1, 2 and 3 instances sharing kafka-dev, a redis-server
// and one sim-cloud on this machine, and the restore rate of a fresh
// instance from the changelog. Prints figures; asserts nothing.
//   build/bench/scaleout_bench [--requests N] [--tenants T] [--clients C]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

double metric(std::uint16_t port, const std::string& name) {
  auto text = http_call(port, "GET", "/metrics").body;
  double sum = 0;
  std::size_t at = 0;
  while ((at = text.find("\n" + name, at)) != std::string::npos) {
    auto end = text.find('\n', at + 1);
    auto line = text.substr(at + 1, end - at - 1);
    if (line.size() > name.size() && (line[name.size()] == ' ' || line[name.size()] == '{'))
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    at = end;
  }
  return sum;
}

struct run {
  temp_dir dir;
  kafka_dev_process kafka;
  redis_server redis{dir / "redis"};
  announced_process sim;
  std::vector<std::unique_ptr<provisiond_process>> instances;

  bool start_instance(int k) {
    json cfg{{"instanceId", "b" + std::to_string(k)},
             {"redis", {{"url", redis.url()}}},
             {"kafka", {{"bootstrap", kafka.bootstrap()}}},
             {"simulation", {{"cloudUrl", sim.value()}}}};
    auto file = dir / ("b" + std::to_string(k) + ".json");
    std::ofstream{file} << cfg.dump();
    instances.push_back(std::make_unique<provisiond_process>());
    return instances.back()->start({"--config", file, "--data-dir", dir / ("data-" + std::to_string(k)), "--listen",
                                    "127.0.0.1:0"},
                                   dir / ("b" + std::to_string(k) + ".log"));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int requests = 1000, tenants = 50, clients = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--tenants")) tenants = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
  }
  for (int n = 1; n <= 3; ++n) {
    run r;
    if (!r.kafka.start(r.dir / "kafka.log", {"--partitions", "8"}) || !r.redis.start() ||
        !r.sim.start({"sim-cloud", "--data-dir", r.dir / "sim"}, r.dir / "sim.log", "SIM_CLOUD")) {
      std::fprintf(stderr, "cannot start kafka-dev, redis-server or sim-cloud\n");
      return 1;
    }
    for (int k = 0; k < n; ++k)
      if (!r.start_instance(k)) {
        std::fprintf(stderr, "instance %d did not start\n", k);
        return 1;
      }
    // Let the group settle (every instance owns partitions, 8 in all) before timing.
    for (int i = 0; i < 1200; ++i) {
      double owned = 0;
      bool each = true;
      for (auto& p : r.instances) {
        double o = metric(p->port(), "provisiond_partitions_owned");
        owned += o;
        each = each && o > 0;
      }
      if (owned == 8 && each) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::atomic<int> next{0}, refused{0};
    std::vector<std::string> ids(requests);
    auto started = clk::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&] {
        for (int i; (i = next++) < requests;) {
          json body{{"tenantId", "t-" + std::to_string(i % tenants)}, {"orderId", "o-" + std::to_string(i)},
                    {"type", "vps"}, {"region", "eu-west-1"},
                    {"resources", {{"cpu", 1}, {"memoryGb", 2}, {"storageGb", 20}}}};
          for (int attempt = 0; attempt < 1200 && ids[i].empty(); ++attempt) {
            auto& p = r.instances[(i + attempt) % r.instances.size()];
            auto rep = http_call(p->port(), "POST", "/v1/requests", body.dump(),
                                 {{"Content-Type", "application/json"}, {"Idempotency-Key", "o-" + std::to_string(i)}});
            if (rep.status == 202 || rep.status == 200) ids[i] = json::parse(rep.body)["id"];
            else {
              ++refused;
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
          }
        }
      });
    for (auto& t : threads) t.join();
    // Done when instance 0's read model has every request at rest.
    auto port0 = r.instances[0]->port();
    for (;;) {
      int done = 0;
      for (int t = 0; t < tenants; ++t) {
        auto page = json::parse(http_call(port0, "GET", "/v1/requests?limit=500&tenantId=t-" + std::to_string(t)).body);
        for (auto& it : page["items"]) {
          std::string st = it["state"];
          done += st == "Completed" || st == "Failed" || st == "RolledBack";
        }
      }
      if (done >= requests || seconds_since(started) > 600) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    double secs = seconds_since(started);
    std::printf("scaleout %d instance(s): %d requests from %d tenants, %d clients: %.1f s → %.0f requests/s "
                "(%d answers 503 to retry: partitions moving, or the instance busy forwarding)\n",
                n, requests, tenants, clients, secs, requests / secs, refused.load());
    std::fflush(stdout);
    if (n == 3) {
      // A fresh instance restores the whole changelog.
      double events = metric(port0, "provisiond_journal_last_position");
      auto t0 = clk::now();
      if (!r.start_instance(3)) return 1;
      auto port3 = r.instances[3]->port();
      while (metric(port3, "provisiond_journal_last_position") < events && seconds_since(t0) < 300)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      double restore = seconds_since(t0);
      std::printf("restore: a fresh instance applied %.0f changelog events in %.2f s from its start (%.0f events/s, "
                  "start-up included)\n",
                  events, restore, events / restore);
    }
  }
  return 0;
}
