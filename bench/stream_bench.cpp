// Live-stream benchmark (not a test): does a reader of GET /v1/events/stream
// that never reads slow the engine down? Starts the real binary, submits N
// requests over HTTP with K clients and waits until all are finished, first
// with no stream open, then with S readers that never read (tiny receive
// buffers) and one live reader; prints requests/s for both runs, the live
// reader's event count and the stalled readers dropped.
//   stream_bench [--requests N] [--clients K] [--stalled S]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/scrape.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sse_client.hpp"

using namespace provisiond::testing;
using provisiond::bench::finished;
using provisiond::bench::metric;
using steady = std::chrono::steady_clock;

namespace {

// Submits `n` requests (order ids from `first`) and waits until the read
// model has them all finished; seconds taken.
double run(std::uint16_t port, int first, int n, int clients) {
  long before = finished(port);
  std::atomic<int> next{first};
  auto t0 = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i = next++; i < first + n; i = next++) {
        auto body = nlohmann::json{{"tenantId", "tenant-" + std::to_string(i % 200)},
                                   {"orderId", "o-" + std::to_string(i)},
                                   {"type", "vps"},
                                   {"region", i % 2 ? "eu-west-1" : "us-east-1"},
                                   {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 10}}}}
                        .dump();
        http_call(port, "POST", "/v1/requests", body);
      }
    });
  for (auto& t : threads) t.join();
  while (finished(port) < before + n) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return std::chrono::duration<double>(steady::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 3000, clients = 8, stalled = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
    else if (a == "--clients") clients = std::stoi(argv[i + 1]);
    else if (a == "--stalled") stalled = std::stoi(argv[i + 1]);
  }
  std::string dir = std::filesystem::temp_directory_path() / "provisiond-stream-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream{dir + "/config.json"} << nlohmann::json{{"http", {{"streamSlowReaderMs", 2000}}}}.dump();
  provisiond_process proc;
  if (!proc.start({"--config", dir + "/config.json", "--data-dir", dir + "/data", "--listen", "127.0.0.1:0",
                   "--durability", "fast"},
                  dir + "/log")) {
    std::fprintf(stderr, "provisiond did not start; see %s/log\n", dir.c_str());
    return 1;
  }
  auto port = proc.port();
  run(port, 0, 200, clients);  // warm-up

  // No stream; S stalled readers; none again (the machine's own drift);
  // one live reader that reads everything.
  int first = 1000;
  double alone = run(port, first, requests, clients);
  first += requests;
  std::vector<std::unique_ptr<sse_client>> readers;
  for (int s = 0; s < stalled; ++s) {
    readers.push_back(std::make_unique<sse_client>());
    readers.back()->open(port, "/v1/events/stream?lastEventId=0", {}, 2048);
  }
  double with_stalled = run(port, first, requests, clients);
  first += requests;
  readers.clear();
  double alone_again = run(port, first, requests, clients);
  first += requests;
  sse_client live;
  live.open(port, "/v1/events/stream");
  std::atomic<long> seen{0};
  std::atomic<bool> stop{false};
  std::thread follower([&] {
    while (!stop)
      if (live.next(std::chrono::milliseconds(500))) ++seen;
  });
  double with_live = run(port, first, requests, clients);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop = true;
  follower.join();

  std::printf("stream: %d requests per run over HTTP from %d clients, durability fast\n", requests, clients);
  std::printf("stream: no stream open          %.0f requests/s\n", requests / alone);
  std::printf("stream: %d stalled readers      %.0f requests/s; dropped as too slow: %ld\n", stalled,
              requests / with_stalled, metric(port, "provisiond_event_streams_dropped_total"));
  std::printf("stream: no stream open again    %.0f requests/s\n", requests / alone_again);
  std::printf("stream: 1 live reader           %.0f requests/s; it received %ld events\n", requests / with_live,
              seen.load());
  proc.terminate();
  std::filesystem::remove_all(dir);
  return 0;
}
