// The crash test of issue 2: ≥ 1000 requests with retryable, permanent and
// response-lost failures, kill -9 at random moments, restart each time.
#include <atomic>
#include <mutex>
#include <random>

#include "tests/integration/fixture.hpp"
#include "tests/integration/journal_check.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

constexpr int request_count = 1000;
constexpr int kills = 6;

struct Crash : server_fixture {};

}  // namespace

TEST_F(Crash, KillNineAtRandomMomentsLosesNothingAndLeaksNothing) {
  auto faults = [](double r, double p, double l) { return json{{"retryable", r}, {"permanent", p}, {"responseLost", l}}; };
  write_config({{"retry", {{"baseDelayMs", 20}, {"maxDelayMs", 200}, {"maxRetries", 3}}},
                {"simulation",
                 {{"seed", 20261125},
                  {"minDelayMs", 2},
                  {"maxDelayMs", 30},
                  {"releaseFailureRate", 0.1},
                  {"steps",
                   {{"allocate", faults(0.10, 0.03, 0.10)},
                    {"configure", faults(0.10, 0.03, 0.10)},
                    {"activate", faults(0.05, 0.02, 0.05)},
                    {"verify", faults(0.05, 0.02, 0.05)}}}}}});
  start_server();
  std::atomic<std::uint16_t> port{proc.port()};
  std::atomic<int> next{0};
  std::mutex mutex;
  std::map<int, std::string> ids;  // submission index → request id
  auto submitter = [&] {
    for (int i = next++; i < request_count; i = next++) {
      for (;;) {
        // The same Idempotency-Key on every retry: a request accepted just
        // before a crash is not created twice.
        auto r = http_call(port.load(), "POST", "/v1/requests", vps_body("crash-" + std::to_string(i % 7), "o-" + std::to_string(i)),
                           {{"Idempotency-Key", "crash-" + std::to_string(i)}});
        if (r.status == 202) {
          std::lock_guard lock{mutex};
          ids[i] = json::parse(r.body)["id"];
          break;
        }
        ASSERT_TRUE(r.status == 0 || r.status == 503) << r.status << " " << r.body;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(submitter);

  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pause_ms{150, 1200};
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    proc.crash();
    port = 0;
    start_server();
    port = proc.port();
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(request_count));

  // Everything settles: Completed or RolledBack, nothing else.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  std::map<std::string, std::string> states;
  for (;;) {
    states.clear();
    std::string cursor;
    do {
      auto page = body(get("/v1/requests?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor)));
      for (auto& it : page["items"]) states[it["id"]] = it["state"];
      cursor = page["nextCursor"].is_string() ? page["nextCursor"].get<std::string>() : "";
    } while (!cursor.empty());
    int settled = 0;
    for (auto& [id, s] : states) settled += (s == "Completed" || s == "RolledBack");
    if (settled == request_count || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(states.size(), static_cast<std::size_t>(request_count)) << "exactly one request per Idempotency-Key";
  std::map<std::string, int> by_state;
  for (auto& [id, s] : states) ++by_state[s];
  EXPECT_EQ(by_state["Completed"] + by_state["RolledBack"], request_count) << ::testing::PrintToString(by_state);
  EXPECT_GT(by_state["RolledBack"], 0) << "the fault rates should roll some back";

  auto ledger = body(get("/v1/simulation/ledger"));
  std::map<std::pair<std::string, std::string>, int> per_step;
  for (auto& e : ledger) {
    std::string rid = e["requestId"];
    EXPECT_EQ(states[rid], "Completed") << "leaked " << e["kind"] << " of " << rid << " (" << states[rid] << ")";
    ++per_step[{rid, e["step"].get<std::string>()}];
  }
  for (auto& [key, n] : per_step) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(per_step.size(), 2u * by_state["Completed"]) << "every completed request holds its server and IP";
  EXPECT_EQ(proc.terminate(), 0);

  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), static_cast<std::size_t>(request_count));
  for (auto& [id, st] : summary.requests)
    EXPECT_TRUE(st.state == provisiond::events::lifecycle::completed ||
                st.state == provisiond::events::lifecycle::rolled_back)
        << id << " " << provisiond::events::to_string(st.state);
  // How much work the kills interrupted: requests resumed at each start.
  int resumed = 0;
  for (int s = 1; s <= starts; ++s) {
    std::ifstream in{dir / ("provisiond-" + std::to_string(s) + ".log")};
    std::string line;
    std::smatch m;
    static const std::regex re{R"((\d+) unfinished requests resumed)"};
    while (std::getline(in, line))
      if (std::regex_search(line, m, re)) resumed += std::stoi(m[1]);
  }
  EXPECT_GT(resumed, 0) << "the kills must interrupt unfinished requests";
  std::printf("crash test: %d requests, %d kills, %d resumed after kills, %zu steps adopted by lookup, %zu events, "
              "%d Completed, %d RolledBack\n",
              request_count, kills, resumed, summary.adopted, summary.events, by_state["Completed"],
              by_state["RolledBack"]);
}
