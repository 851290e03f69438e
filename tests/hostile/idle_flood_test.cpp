// 500 idle sockets from four loopback addresses and a slowloris from a fifth,
// with the default limits, against the real binary: every healthy request
// from 127.0.0.1 is served. Healthy p99 without and with the flood is
// measured and printed (bench/hostile_bench prints the same; no timing is
// asserted).
#include "tests/hostile/flood.hpp"
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;

TEST(IdleFlood, FiveHundredIdleSocketsAndASlowlorisDoNotKeepHealthyClientsFromBeingServed) {
  temp_dir dir;
  provisiond_process proc;
  ASSERT_TRUE(proc.start({"--data-dir", dir / "data", "--listen", "127.0.0.1:0"}, dir / "provisiond.log"));
  auto r = http_call(proc.port(), "POST", "/v1/requests", vps_body("calm-co", "o-1"));
  ASSERT_EQ(r.status, 202);
  std::string target = "/v1/requests/" + nlohmann::json::parse(r.body)["id"].get<std::string>();
  int warm = 0;
  healthy_latencies(proc.port(), target, 50, warm);

  int unloaded_failures = 0;
  auto unloaded = healthy_latencies(proc.port(), target, 400, unloaded_failures);

  int loaded_failures = 0;
  std::vector<double> loaded;
  int connected = 0;
  int pid = pid_with_argument(dir / "data");
  long rss_before = rss_kib(pid), rss_flooded = 0;
  {
    flood attack{proc.port(), 500, 4, 50};
    connected = attack.connected();
    // The server has accepted them all before the measure starts.
    for (int i = 0; i < 200; ++i) {
      auto m = http_call(proc.port(), "GET", "/metrics").body;
      auto at = m.find("\nprovisiond_http_connections ");
      if (at != std::string::npos && std::stod(m.substr(at + 29)) >= 540) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    loaded = healthy_latencies(proc.port(), target, 400, loaded_failures);
    rss_flooded = rss_kib(pid);
  }
  EXPECT_EQ(connected, 500);
  EXPECT_EQ(unloaded_failures, 0);
  EXPECT_EQ(loaded_failures, 0) << "every healthy request is served during the flood";
  ASSERT_TRUE(proc.alive());
  double p99_unloaded = percentile(unloaded, 0.99), p99_loaded = percentile(loaded, 0.99);
  std::printf(
      "healthy GET p99: %.2f ms unloaded, %.2f ms with 500 idle sockets and 50 slowloris (%.2fx); "
      "p50 %.2f / %.2f ms\n",
      p99_unloaded, p99_loaded, p99_loaded / p99_unloaded, percentile(unloaded, 0.5), percentile(loaded, 0.5));
  std::printf("provisiond RSS %ld KiB before the flood, %ld KiB with its %d connections open\n", rss_before,
              rss_flooded, connected + 50);
}
