// Circuit breaker and bulkhead per cluster, against the real binary: a
// cluster failing every call opens its breaker (calls fail fast instead of
// reaching it) while requests on a healthy cluster complete.
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
struct Resilience : server_fixture {};
}  // namespace

TEST_F(Resilience, AFailingClusterOpensItsBreakerWhileAHealthyClusterCompletes) {
  write_config({{"retry", {{"baseDelayMs", 30}, {"maxDelayMs", 100}, {"maxRetries", 3}}},
                {"providerGate",
                 {{"maxConcurrentPerCluster", 2}, {"breakerWindow", 6}, {"breakerMinCalls", 6},
                  {"breakerFailureRate", 0.5}, {"breakerOpenMs", 500}}},
                {"simulation",
                 {{"minDelayMs", 2},
                  {"maxDelayMs", 5},
                  {"clusters",
                   {{"sim-eu-west-1",
                     {{"minDelayMs", 50}, {"maxDelayMs", 50}, {"steps", {{"allocate", {{"retryable", 1.0}}}}}}}}}}}});
  start_server();
  std::vector<std::string> bad, good;
  for (int i = 0; i < 10; ++i) bad.push_back(body(post("/v1/requests", vps_body("bad", "b-" + std::to_string(i))))["id"]);
  for (int i = 0; i < 20; ++i)
    good.push_back(body(post("/v1/requests", vps_body("good", "g-" + std::to_string(i), "us-east-1")))["id"]);
  for (auto& id : good) ASSERT_EQ(wait_state(id, {"Completed"}, 60s), "Completed") << id;
  bool saw_open = false;
  for (int i = 0; i < 200 && !saw_open; ++i) {
    saw_open = get("/metrics").body.find("provisiond_breaker_state{cluster=\"sim-eu-west-1\"} 1") != std::string::npos;
    if (!saw_open) std::this_thread::sleep_for(10ms);
  }
  for (auto& id : bad) ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack") << id;

  int reached = 0, fast = 0;
  for (auto& id : bad)
    for (auto& e : body(get("/v1/requests/" + id + "/events"))) {
      if (e["type"] != "step_failed" && e["type"] != "compensation_failed") continue;
      auto code = e["data"].value("code", "");
      auto message = e["data"].value("message", "");
      if (code == "simulated_retryable") ++reached;
      if (code == "circuit_open" || message.find("circuit breaker open") != std::string::npos) ++fast;
    }
  EXPECT_GT(fast, 0) << "calls to the failing cluster failed fast while its breaker was open";
  EXPECT_LT(reached, 40) << "not every attempt reached the failing cluster";
  auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("provisiond_breaker_state{cluster=\"sim-us-east-1\"} 0"), std::string::npos)
      << "the healthy cluster's breaker stayed closed";
  std::printf("breaker: %d attempts reached the failing cluster, %d failed fast; open seen in /metrics: %s\n", reached,
              fast, saw_open ? "yes" : "no");
}
