// Memory benchmark (not a test): the resident memory of the real provisiond
// process after N finished requests and a minute idle, against the bound the
// README states. Prints figures.
//   memory_bench [--requests N] [--clients K] [--idle-seconds S] [--kafka external|embedded]
// external (default): a separate `provisiond kafka-dev` process is the
// broker, as in production; embedded: the in-process mock cluster, whose
// retained log (all topics) then counts in provisiond's RSS too.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/scrape.hpp"
#include "tests/support/process.hpp"

using namespace provisiond::testing;
using provisiond::bench::finished;
using provisiond::bench::metric;
using steady = std::chrono::steady_clock;

namespace {

// VmRSS of a process, from /proc (kB → MiB).
double rss_mib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

// The process's own pid, from GET /v1/system.
pid_t find_pid(std::uint16_t port) {
  auto r = http_call(port, "GET", "/v1/system");
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("pid") ? j["pid"].get<pid_t>() : -1;
}


}  // namespace

int main(int argc, char** argv) {
  int requests = 50'000, clients = 8, idle_seconds = 60;
  std::string kafka_mode = "external";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
    else if (a == "--clients") clients = std::stoi(argv[i + 1]);
    else if (a == "--idle-seconds") idle_seconds = std::stoi(argv[i + 1]);
    else if (a == "--kafka") kafka_mode = argv[i + 1];
  }
  std::string dir = std::filesystem::temp_directory_path() / "provisiond-memory-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kafka_dev_process kafka;
  std::vector<std::string> args = {"--data-dir", dir + "/data", "--listen", "127.0.0.1:0", "--durability", "fast"};
  if (kafka_mode == "external") {
    if (!kafka.start(dir + "/kafka-dev.log")) {
      std::fprintf(stderr, "provisiond kafka-dev did not start\n");
      return 1;
    }
    std::ofstream{dir + "/config.json"} << nlohmann::json{{"kafka", {{"bootstrap", kafka.bootstrap()}}}}.dump();
    args.insert(args.begin(), {"--config", dir + "/config.json"});
  }
  provisiond_process proc;
  if (!proc.start(args, dir + "/log")) {
    std::fprintf(stderr, "provisiond did not start; see %s/log\n", dir.c_str());
    return 1;
  }
  auto port = proc.port();
  auto pid = find_pid(port);
  double at_start = rss_mib(pid);
  std::atomic<int> next{0}, failed{0};
  auto t0 = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i = next++; i < requests; i = next++) {
        auto body = nlohmann::json{{"tenantId", "tenant-" + std::to_string(i % 500)},
                                   {"orderId", "o-" + std::to_string(i)},
                                   {"type", "vps"},
                                   {"region", i % 2 ? "eu-west-1" : "us-east-1"},
                                   {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 10}}}}
                        .dump();
        if (http_call(port, "POST", "/v1/requests", body).status != 202) ++failed;
      }
    });
  for (auto& t : threads) t.join();
  double submit_s = std::chrono::duration<double>(steady::now() - t0).count();
  // Finished: every request terminal (the read model's counts).
  for (;;) {
    long done = finished(port);
    if (done >= requests - failed.load()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  double finished_s = std::chrono::duration<double>(steady::now() - t0).count();
  double at_finish = rss_mib(pid);
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  double after_idle = rss_mib(pid);
  std::printf("memory: %d requests (%d failed) from %d clients over HTTP, %d tenants, Kafka %s; submitted in %.1f s, "
              "all finished after %.1f s\n",
              requests, failed.load(), clients, std::min(requests, 500), kafka_mode.c_str(), submit_s, finished_s);
  std::printf("memory: RSS %.0f MiB at start, %.0f MiB when all had finished, %.0f MiB after %d s idle\n", at_start,
              at_finish, after_idle, idle_seconds);
  std::printf("memory: growth after idle %.0f MiB = %.0f bytes per finished request; bound: RocksDB block cache "
              "128 MiB (memtables at most 64 MiB of it) + the simulation ledger's 8 MiB of memtables + process base\n",
              after_idle - at_start, (after_idle - at_start) * 1048576.0 / requests);
  std::printf("memory: request actors live after idle: %ld, tenant supervisors live: %ld\n",
              metric(port, "provisiond_request_actors"), metric(port, "provisiond_tenant_supervisors"));
  proc.terminate();
  std::filesystem::remove_all(dir);
  return 0;
}
