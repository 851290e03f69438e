// Full-pipeline and replay benchmark (not a test): prints figures.
//   pipeline_bench [--requests N] [--clients K] [--replay N]
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/engine.hpp"
#include "events/codec.hpp"
#include "events/request_state.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "tests/support/sim_engine.hpp"

using namespace provisiond;
namespace ev = provisiond::events;
using steady = std::chrono::steady_clock;

namespace {

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// Median latency of a 512-byte write + fdatasync in `dir`.
double fsync_latency_us(const std::string& dir) {
  auto path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<double> samples;
  char buf[512] = {};
  for (int i = 0; i < 200; ++i) {
    auto t = steady::now();
    if (::write(fd, buf, sizeof buf) != sizeof buf) break;
    ::fdatasync(fd);
    samples.push_back(seconds_since(t) * 1e6);
  }
  ::close(fd);
  std::filesystem::remove(path);
  std::sort(samples.begin(), samples.end());
  return samples.empty() ? 0 : samples[samples.size() / 2];
}

struct pipeline_result {
  double seconds = 0;
  std::uint64_t events = 0;
};

pipeline_result run_pipeline(const std::string& dir, durability mode, int requests, int clients) {
  std::filesystem::remove_all(dir);
  testing::sim_engine env{dir, mode, simulation_config{}, 4};
  auto& engine = *env.engine;
  auto& journal = env.journal;
  std::atomic<int> next{0}, failed{0};
  auto start = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i = next++; i < requests; i = next++) {
        actors::submit_command cmd;
        cmd.spec = ev::request_submitted{"tenant-" + std::to_string(i % 50), "o-" + std::to_string(i), "vps",
                                         i % 2 ? "eu-west-1" : "us-east-1", "simulation", {2, 4, 40}, {}, "", "", {}};
        if (!engine.submit(cmd)) ++failed;
      }
    });
  for (auto& t : threads) t.join();
  std::size_t peak_live = 0;
  while (engine.live_actors() > 0) {
    peak_live = std::max(peak_live, engine.live_actors());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::printf("  live request actors: peak %zu while running, 0 after\n", peak_live);
  pipeline_result r;
  r.seconds = seconds_since(start);
  r.events = journal->last_position();
  engine.shutdown(std::chrono::seconds(5));
  if (failed) std::printf("  (%d submissions failed)\n", failed.load());
  return r;
}

void run_replay(const std::string& dir, int requests) {
  auto store = *ev::rocksdb_adapter::store::open(dir + "/journal", durability::fast);
  auto journal = ev::rocksdb_adapter::make_journal(store);
  std::vector<std::string> ids;
  {
    auto all = journal->read_all(1, SIZE_MAX);
    for (auto& e : *all)
      if (e.sequence == 1) ids.push_back(ev::request_of_stream(e.stream));
  }
  if (static_cast<int>(ids.size()) > requests) ids.resize(requests);
  std::uint64_t events = 0, completed = 0;
  auto start = steady::now();
  for (auto& id : ids) {
    auto stream = journal->read_stream(ev::stream_for_request(id), 1);
    ev::request_state s;
    s.id = id;
    for (auto& env : *stream) {
      ev::apply_in_place(s, *ev::decode(env), env.time);
      ++events;
    }
    completed += s.state == ev::lifecycle::completed;
  }
  double secs = seconds_since(start);
  std::printf("replay (read stream + decode + apply), %zu requests: %.0f events/s on one thread (%.2f s, %llu completed)\n",
              ids.size(), events / secs, secs, static_cast<unsigned long long>(completed));

  start = steady::now();
  std::uint64_t decoded = 0, pos = 1;
  for (;;) {
    auto batch = journal->read_all(pos, 4096);
    if (batch->empty()) break;
    for (auto& env : *batch) decoded += ev::decode(env).has_value();
    pos = batch->back().global_position + 1;
  }
  secs = seconds_since(start);
  std::printf("global scan (read_all + decode), %llu events: %.0f events/s on one thread\n",
              static_cast<unsigned long long>(decoded), decoded / secs);
  start = steady::now();
  std::uint64_t raw = 0;
  pos = 1;
  for (;;) {
    auto batch = journal->read_all(pos, 4096);
    if (batch->empty()) break;
    raw += batch->size();
    pos = batch->back().global_position + 1;
  }
  secs = seconds_since(start);
  std::printf("global scan (read_all, envelopes only), %llu events: %.0f events/s on one thread\n",
              static_cast<unsigned long long>(raw), raw / secs);
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 20000, clients = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
    else if (a == "--clients") clients = std::stoi(argv[i + 1]);
  }
  std::string base = std::filesystem::temp_directory_path() / "provisiond-bench";
  std::filesystem::create_directories(base);
  std::printf("machine: %u cores, %s; fdatasync of 512 B in %s: median %.0f us\n", std::thread::hardware_concurrency(),
              cpu_model().c_str(), base.c_str(), fsync_latency_us(base));
  for (auto mode : {durability::fast, durability::durable}) {
    auto dir = base + (mode == durability::fast ? "/fast" : "/durable");
    auto r = run_pipeline(dir, mode, requests, clients);
    std::printf("pipeline %-7s: %d requests, %llu events in %.2f s → %.0f requests/s, %.0f events/s\n",
                mode == durability::fast ? "fast" : "durable", requests, static_cast<unsigned long long>(r.events),
                r.seconds, requests / r.seconds, r.events / r.seconds);
  }
  run_replay(base + "/fast", requests);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS of the whole benchmark: %.0f MiB (finished request actors are passivated)\n", ru.ru_maxrss / 1024.0);
  std::filesystem::remove_all(base);
  return 0;
}
