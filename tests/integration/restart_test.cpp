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
