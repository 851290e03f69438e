// Hostile-client benchmark (not a test): how much do idle sockets and a
// slowloris slow a healthy client down? Starts the real binary with the
// default limits, measures N sequential GETs of one request from 127.0.0.1
// without and then with I idle connections (spread over A loopback
// addresses) and S slowloris connections (one more address), and prints p50,
// p99 and the p99 ratio of each run. Each phase lasts at least H seconds
// (15 by default: past the 10 s header timeout, so during the flood the
// server closes the idle and slow connections and the flood opens them
// again). Three runs, alternating, so the machine's own drift shows.
//   hostile_bench [--requests N] [--idle I] [--addresses A] [--slow S] [--hold-seconds H]
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/hostile/flood.hpp"
#include "tests/support/process.hpp"

using namespace provisiond::testing;

namespace {

// At least `n` GETs and at least `seconds` of them, so both runs sample the
// machine for as long.
std::vector<double> measure(std::uint16_t port, const std::string& target, int n, int seconds, int& failures) {
  std::vector<double> ms;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (static_cast<int>(ms.size()) < n || std::chrono::steady_clock::now() < until) {
    auto more = healthy_latencies(port, target, 200, failures);
    ms.insert(ms.end(), more.begin(), more.end());
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 2000, idle = 500, addresses = 4, slow = 50, hold_seconds = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests")
      requests = std::stoi(argv[i + 1]);
    else if (a == "--idle")
      idle = std::stoi(argv[i + 1]);
    else if (a == "--addresses")
      addresses = std::stoi(argv[i + 1]);
    else if (a == "--slow")
      slow = std::stoi(argv[i + 1]);
    else if (a == "--hold-seconds")
      hold_seconds = std::stoi(argv[i + 1]);
  }
  std::string dir = std::filesystem::temp_directory_path() / "provisiond-hostile-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  provisiond_process proc;
  if (!proc.start({"--data-dir", dir + "/data", "--listen", "127.0.0.1:0", "--durability", "fast"}, dir + "/log")) {
    std::fprintf(stderr, "provisiond did not start; see %s/log\n", dir.c_str());
    return 1;
  }
  auto port = proc.port();
  auto created = http_call(port, "POST", "/v1/requests",
                           nlohmann::json{{"tenantId", "calm-co"},
                                          {"orderId", "o-1"},
                                          {"type", "vps"},
                                          {"region", "eu-west-1"},
                                          {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 10}}}}
                               .dump());
  if (created.status != 202) {
    std::fprintf(stderr, "submission failed: %d %s\n", created.status, created.body.c_str());
    return 1;
  }
  std::string target = "/v1/requests/" + nlohmann::json::parse(created.body)["id"].get<std::string>();
  int failures = 0;
  healthy_latencies(port, target, 200, failures);  // warm-up

  std::printf("%d sequential GETs per run; flood: %d idle sockets over %d addresses, %d slowloris\n", requests, idle,
              addresses, slow);
  for (int run = 1; run <= 3; ++run) {
    auto unloaded = measure(port, target, requests, hold_seconds, failures);
    std::vector<double> loaded;
    int reopened = 0;
    {
      flood attack{port, idle, addresses, slow};
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the server accept them all
      loaded = measure(port, target, requests, hold_seconds, failures);
      reopened = attack.reopened();
    }
    double u99 = percentile(unloaded, 0.99), l99 = percentile(loaded, 0.99);
    std::printf(
        "run %d: unloaded p50 %.3f ms p99 %.3f ms (%zu GETs) | flood p50 %.3f ms p99 %.3f ms (%zu GETs) | "
        "p99 ratio %.2fx (%d flood connections closed by the server and reopened)\n",
        run, percentile(unloaded, 0.5), u99, unloaded.size(), percentile(loaded, 0.5), l99, loaded.size(), l99 / u99,
        reopened);
  }
  std::printf("healthy requests not answered 200: %d\n", failures);
  return failures == 0 ? 0 : 1;
}
