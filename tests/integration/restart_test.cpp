#include "tests/integration/fixture.hpp"
#include "tests/integration/journal_check.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

struct Restart : server_fixture {};

// Ledger entries per (request, step), from GET /v1/simulation/ledger.
std::map<std::pair<std::string, std::string>, int> ledger_counts(const json& ledger) {
  std::map<std::pair<std::string, std::string>, int> out;
  for (auto& e : ledger) ++out[{e["requestId"].get<std::string>(), e["step"].get<std::string>()}];
  return out;
}

}  // namespace

TEST_F(Restart, KillMidPipelineThenRestartResumesEveryRequest) {
  // Slow steps so that the kill lands while every request is mid-pipeline.
  write_config({{"simulation", {{"minDelayMs", 50}, {"maxDelayMs", 150}}}});
  start_server();
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    auto r = post("/v1/requests", vps_body("acme", "o-" + std::to_string(i)));
    ASSERT_EQ(r.status, 202);
    ids.push_back(body(r)["id"]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  proc.crash();
  start_server();
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}, std::chrono::seconds(60)), "Completed") << id;
  auto counts = ledger_counts(body(get("/v1/simulation/ledger")));
  EXPECT_EQ(counts.size(), 2 * ids.size()) << "a server and a floating IP per request";
  for (auto& [key, n] : counts) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  int adopted = 0;
  for (auto& id : ids)
    for (auto& e : body(get("/v1/requests/" + id + "/events")))
      if (e["type"] == "step_completed" && e["data"]["adopted"] == true) ++adopted;
  RecordProperty("adopted", adopted);
  EXPECT_EQ(proc.terminate(), 0);
  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), ids.size());
}

TEST_F(Restart, SigtermMidRunStopsCleanlyAndARestartFinishesEverythingOnce) {
  // Each step takes 100-300 ms, so a request needs at least 400 ms: the
  // last ones posted are surely mid-run when SIGTERM arrives right after.
  write_config({{"simulation", {{"minDelayMs", 100}, {"maxDelayMs", 300}}}, {"maxInFlightPerTenant", 50}});
  start_server();
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto r = post("/v1/requests", vps_body("tenant-" + std::to_string(i % 4), "o-" + std::to_string(i)));
    ASSERT_EQ(r.status, 202);
    ids.push_back(body(r)["id"]);
  }
  auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(proc.terminate(), 0) << "SIGTERM exits 0";
  auto stop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  EXPECT_LT(stop_seconds, 30.0);
  auto midway = check_journal(dir / "data/journal");
  int unfinished = 0;
  for (auto& [id, st] : midway.requests) unfinished += !provisiond::events::is_terminal(st.state);
  EXPECT_GT(unfinished, 0) << "the stop must land mid-run";
  // In-flight calls finished and were recorded. An intent whose append was
  // already on its way when the stop began stays open; the restart settles it.
  int open_intents = 0;
  for (auto& [id, st] : midway.requests)
    for (auto& step : st.steps) open_intents += step.status == provisiond::events::step_status::running;

  start_server();
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}, std::chrono::seconds(60)), "Completed") << id;
  auto counts = ledger_counts(body(get("/v1/simulation/ledger")));
  EXPECT_EQ(counts.size(), 2 * ids.size());
  for (auto& [key, n] : counts) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(proc.terminate(), 0);
  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), ids.size());
  std::printf("sigterm: stopped in %.2f s with %d of %zu requests unfinished (%d open intents); all completed after "
              "the restart\n",
              stop_seconds, unfinished, ids.size(), open_intents);
}

TEST_F(Restart, SigtermWithAProviderCallThatNeverReturnsStopsAtTheHardLimitAndARestartSettlesIt) {
  // Every call on the default cluster sleeps ten minutes: the allocate call
  // is in hand when SIGTERM arrives and will not return by itself.
  write_config({{"simulation", {{"clusters", {{"sim-eu-west-1", {{"minDelayMs", 600000}, {"maxDelayMs", 600000}}}}}}},
                {"shutdownGraceMs", 1000}});
  start_server();
  auto r = post("/v1/requests", vps_body("acme", "o-hung"));
  ASSERT_EQ(r.status, 202);
  std::string id = body(r)["id"];
  ASSERT_EQ(wait_state(id, {"Allocating"}), "Allocating");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the call is on its pool thread
  EXPECT_EQ(proc.terminate(), 0) << "SIGTERM exits 0 even with a call still running";
  std::ifstream log{dir / "provisiond-1.log"};
  std::string text{std::istreambuf_iterator<char>{log}, {}};
  EXPECT_NE(text.find("were abandoned"), std::string::npos) << text;

  // The cloud answers again: the restart settles the open intent and finishes once.
  write_config(json::object());
  start_server();
  ASSERT_EQ(wait_state(id, {"Completed"}, std::chrono::seconds(60)), "Completed");
  auto counts = ledger_counts(body(get("/v1/simulation/ledger")));
  EXPECT_EQ(counts.size(), 2u) << "one server and one floating IP";
  for (auto& [key, n] : counts) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(proc.terminate(), 0);
}
