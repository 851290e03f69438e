// Hostile-client benchmark (not a test): how much do idle sockets and a
// slowloris slow a healthy client down? Starts the real binary with the
// default limits, measures N sequential GETs of one request from 127.0.0.1
// without and then with I idle connections (spread over A loopback
// addresses) and S slowloris connections (one more address), and prints p50,
// p99 and the p99 ratio of each run. Three runs, alternating, so the
// machine's own drift shows.
//   hostile_bench [--requests N] [--idle I] [--addresses A] [--slow S]
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/hostile/flood.hpp"
#include "tests/support/process.hpp"

using namespace provisiond::testing;

int main(int argc, char** argv) {
  int requests = 2000, idle = 500, addresses = 4, slow = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
    else if (a == "--idle") idle = std::stoi(argv[i + 1]);
    else if (a == "--addresses") addresses = std::stoi(argv[i + 1]);
    else if (a == "--slow") slow = std::stoi(argv[i + 1]);
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
    auto unloaded = healthy_latencies(port, target, requests, failures);
    std::vector<double> loaded;
    int reopened = 0;
    {
      flood attack{port, idle, addresses, slow};
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the server accept them all
      loaded = healthy_latencies(port, target, requests, failures);
      reopened = attack.reopened();
    }
    double u99 = percentile(unloaded, 0.99), l99 = percentile(loaded, 0.99);
    std::printf("run %d: unloaded p50 %.3f ms p99 %.3f ms | flood p50 %.3f ms p99 %.3f ms | p99 ratio %.2fx "
                "(%d flood connections reopened)\n",
                run, percentile(unloaded, 0.5), u99, percentile(loaded, 0.5), l99, l99 / u99, reopened);
  }
  std::printf("healthy requests not answered 200: %d\n", failures);
  return failures == 0 ? 0 : 1;
}
