// A shared simulation cloud (`provisiond sim-cloud`) used by several real
// provisiond instances over HTTP: one ledger, one set of seeded faults, and
// a transport outage that is retried, never a permanent failure.
#include "tests/integration/fixture.hpp"

#include <set>

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// `provisiond sim-cloud` in its own process; its URL from the
/// `SIM_CLOUD=http://HOST:PORT` line it prints once it serves.
class sim_cloud_process {
 public:
  bool start(std::vector<std::string> args, const std::string& log_file) {
    args.insert(args.begin(), "sim-cloud");
    if (!process_.start(args, log_file, "SIM_CLOUD")) return false;
    port_ = static_cast<std::uint16_t>(std::stoi(url().substr(url().rfind(':') + 1)));
    return true;
  }
  int terminate() { return process_.terminate(); }
  const std::string& url() const { return process_.value(); }
  std::uint16_t port() const { return port_; }

 private:
  announced_process process_;
  std::uint16_t port_ = 0;
};

json parse(const http_reply& r) { return json::parse(r.body, nullptr, false); }

/// A sim-cloud and the provisiond instances that share it, each with its own data dir.
struct SimCloud : ::testing::Test {
  temp_dir dir;
  sim_cloud_process cloud;
  std::vector<std::unique_ptr<provisiond_process>> instances;
  int logs = 0;

  std::string log(const std::string& what) { return dir / (what + "-" + std::to_string(++logs) + ".log"); }

  /// Starts the sim-cloud with `simulation` as its faults (config file
  /// section); `listen` empty: a free port.
  void start_cloud(const json& simulation, const std::string& listen = "") {
    std::ofstream{dir / "cloud.json"} << json{{"simulation", simulation}}.dump(2);
    std::vector<std::string> args = {"--config", dir / "cloud.json", "--data-dir", dir / "cloud"};
    if (!listen.empty()) args.insert(args.end(), {"--listen", listen});
    auto file = log("sim-cloud");
    ASSERT_TRUE(cloud.start(args, file)) << "sim-cloud did not start; see " << file;
  }

  /// Starts instance number `n` (its own data dir) pointed at the sim-cloud,
  /// with `extra` merged into its config file.
  void start_instance(int n, const std::string& cloud_url, const json& extra = json::object()) {
    json cfg{{"simulation", {{"cloudUrl", cloud_url}}}, {"kafka", {{"enabled", false}}}};
    cfg.update(extra);
    auto name = "instance-" + std::to_string(n);
    std::ofstream{dir / (name + ".json")} << cfg.dump(2);
    if (static_cast<int>(instances.size()) <= n) instances.resize(n + 1);
    if (!instances[n]) instances[n] = std::make_unique<provisiond_process>();
    std::vector<std::string> args = {"--config", dir / (name + ".json"), "--data-dir", dir / name, "--listen",
                                     "127.0.0.1:0"};
    auto file = log(name);
    ASSERT_TRUE(instances[n]->start(args, file)) << name << " did not start; see " << file;
  }

  http_reply get(int n, const std::string& target) { return http_call(instances[n]->port(), "GET", target); }

  std::string submit(int n, const std::string& tenant, const std::string& order, const std::string& region) {
    auto r = http_call(instances[n]->port(), "POST", "/v1/requests", vps_body(tenant, order, region));
    EXPECT_EQ(r.status, 202) << r.body;
    return parse(r).value("id", "");
  }

  std::string state(int n, const std::string& id) {
    auto r = get(n, "/v1/requests/" + id);
    return r.status == 200 ? parse(r).value("state", "") : "";
  }

  std::string wait_state(int n, const std::string& id, const std::set<std::string>& states,
                         std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = state(n, id);
      if (states.count(s)) return s;
      std::this_thread::sleep_for(20ms);
    }
    return s;
  }

  json events(int n, const std::string& id) { return parse(get(n, "/v1/requests/" + id + "/events")); }

  /// Polls the request's events until one satisfies `pred`.
  bool wait_event(int n, const std::string& id, const std::function<bool(const json&)>& pred,
                  std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto evs = events(n, id);
      if (evs.is_array())
        for (auto& e : evs)
          if (pred(e)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  json cloud_ledger() { return parse(http_call(cloud.port(), "GET", "/v1/simulation/ledger")); }
};

// Ledger entries of one request: kind → how many.
std::map<std::string, int> kinds_of(const json& ledger, const std::string& request) {
  std::map<std::string, int> out;
  for (auto& e : ledger)
    if (e["requestId"] == request) ++out[e["kind"].get<std::string>()];
  return out;
}

bool is_step_failed(const json& e, const std::string& step, const std::string& code) {
  return e["type"] == "step_failed" && e["data"]["step"] == step && e["data"]["code"] == code;
}

}  // namespace

TEST_F(SimCloud, TwoInstancesShareOneLedger) {
  start_cloud({{"seed", 7}, {"minDelayMs", 1}, {"maxDelayMs", 5}});
  start_instance(0, cloud.url());
  start_instance(1, cloud.url());
  std::vector<std::pair<int, std::string>> ids;
  for (int i = 0; i < 6; ++i) {
    int n = i % 2;
    ids.emplace_back(n, submit(n, "tenant-" + std::to_string(n), "o-" + std::to_string(i),
                               i % 3 == 0 ? "us-east-1" : "eu-west-1"));
  }
  for (auto& [n, id] : ids) ASSERT_EQ(wait_state(n, id, {"Completed"}), "Completed") << id;

  auto shared = cloud_ledger();
  ASSERT_TRUE(shared.is_array());
  EXPECT_EQ(parse(get(0, "/v1/simulation/ledger")), shared) << "instance 0 reads the sim-cloud's ledger";
  EXPECT_EQ(parse(get(1, "/v1/simulation/ledger")), shared) << "instance 1 reads the sim-cloud's ledger";
  EXPECT_EQ(shared.size(), 2 * ids.size()) << "a server and a floating IP per request, nothing else";
  for (auto& [n, id] : ids) {
    auto kinds = kinds_of(shared, id);
    EXPECT_EQ(kinds["server"], 1) << id;
    EXPECT_EQ(kinds["floating_ip"], 1) << id;
  }
  // The endpoints an instance shows are the shared cloud's resources.
  auto view = parse(get(0, "/v1/requests/" + ids[0].second));
  bool matches = false;
  for (auto& e : shared)
    if (e["requestId"] == ids[0].second && e["kind"] == "floating_ip")
      matches = view["endpoints"].value("ipv4", "") == e["attributes"].value("ip", "-");
  EXPECT_TRUE(matches) << view.dump();
}

TEST_F(SimCloud, FaultsSeededOnTheCloudAreWhatInstancesSee) {
  start_cloud({{"minDelayMs", 1},
               {"maxDelayMs", 5},
               {"clusters",
                {{"sim-eu-west-1", {{"steps", {{"allocate", {{"responseLost", 1.0}}}}}}},
                 {"sim-us-east-1", {{"reachable", false}, {"steps", {{"verify", {{"permanent", 1.0}}}}}}}}}});
  json fast_retry{{"retry", {{"baseDelayMs", 20}, {"maxDelayMs", 100}, {"maxRetries", 3}}}};
  start_instance(0, cloud.url(), fast_retry);
  start_instance(1, cloud.url(), fast_retry);

  // Response lost: the server was created, the instance saw a timeout, the
  // next attempt adopted it by (request, step) instead of creating another.
  auto lost = submit(0, "acme", "lost-1", "eu-west-1");
  ASSERT_EQ(wait_state(0, lost, {"Completed", "Failed", "RolledBack"}), "Completed");
  bool saw_timeout = false;
  for (auto& e : events(0, lost))
    saw_timeout |= is_step_failed(e, "allocate", "timeout") && e["data"]["retryable"] == true;
  EXPECT_TRUE(saw_timeout) << events(0, lost).dump();
  EXPECT_EQ(kinds_of(cloud_ledger(), lost)["server"], 1) << "exactly one server for the request";

  // A permanent verdict of the cloud is permanent on the instance, and its
  // rollback releases what the cloud holds for the request.
  auto doomed = submit(1, "globex", "doomed-1", "us-east-1");
  ASSERT_EQ(wait_state(1, doomed, {"Completed", "Failed", "RolledBack"}), "RolledBack");
  bool saw_permanent = false;
  for (auto& e : events(1, doomed))
    saw_permanent |= is_step_failed(e, "verify", "simulated_permanent") && e["data"]["retryable"] == false;
  EXPECT_TRUE(saw_permanent) << events(1, doomed).dump();
  EXPECT_TRUE(kinds_of(cloud_ledger(), doomed).empty()) << "the rollback released the server and the floating IP";

  // The connectivity check asks the cloud, which says which cluster does not answer.
  auto far = parse(http_call(instances[1]->port(), "POST", "/v1/clusters/sim-us-east-1/test", ""));
  EXPECT_EQ(far["success"], false) << far.dump();
  EXPECT_NE(far.value("error", "").find("does not answer"), std::string::npos) << far.dump();
  auto near = parse(http_call(instances[0]->port(), "POST", "/v1/clusters/sim-eu-west-1/test", ""));
  EXPECT_EQ(near["success"], true) << near.dump();
}

TEST_F(SimCloud, AnInterruptedCallIsSettledByLookupOnTheCloud) {
  // Slow calls, so that the instance is killed while its allocate is at the cloud.
  start_cloud({{"clusters", {{"sim-eu-west-1", {{"minDelayMs", 1500}, {"maxDelayMs", 1500}}}}}});
  start_instance(0, cloud.url());
  auto id = submit(0, "acme", "settle-1", "eu-west-1");
  ASSERT_TRUE(wait_event(0, id, [](const json& e) { return e["type"] == "step_started"; }));
  // The intent is journalled just before the call goes out; give it a moment
  // to reach the cloud (where it then sleeps 1.5 s) before the kill.
  std::this_thread::sleep_for(300ms);
  instances[0]->crash();
  // The cloud finishes the call the instance no longer waits for.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (kinds_of(cloud_ledger(), id)["server"] == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(kinds_of(cloud_ledger(), id)["server"], 1);

  start_instance(0, cloud.url());
  ASSERT_EQ(wait_state(0, id, {"Completed", "Failed", "RolledBack"}), "Completed");
  bool adopted = false;
  for (auto& e : events(0, id))
    adopted |= e["type"] == "step_completed" && e["data"]["step"] == "allocate" && e["data"]["adopted"] == true;
  EXPECT_TRUE(adopted) << "the restarted instance found the server by lookup instead of creating one";
  EXPECT_EQ(kinds_of(cloud_ledger(), id)["server"], 1);
}

TEST_F(SimCloud, AStoppedCloudIsRetriedAndTheRequestCompletesWhenItIsBack) {
  start_cloud({{"minDelayMs", 1}, {"maxDelayMs", 5}});
  auto listen = "127.0.0.1:" + std::to_string(cloud.port());
  // Many quick retries and a short breaker, so the outage outlasts no budget.
  start_instance(0, cloud.url(),
                 {{"retry", {{"baseDelayMs", 50}, {"maxDelayMs", 200}, {"maxRetries", 100}}},
                  {"providerGate", {{"breakerOpenMs", 100}}}});
  auto before = submit(0, "acme", "before-1", "eu-west-1");
  ASSERT_EQ(wait_state(0, before, {"Completed"}), "Completed");

  ASSERT_EQ(cloud.terminate(), 0) << "SIGTERM stops the sim-cloud cleanly";
  auto id = submit(0, "acme", "during-1", "eu-west-1");
  ASSERT_TRUE(wait_event(0, id, [](const json& e) {
    return is_step_failed(e, "allocate", "sim_cloud_unreachable") && e["data"]["retryable"] == true;
  })) << events(0, id).dump();
  auto during = state(0, id);
  EXPECT_TRUE(during != "Failed" && during != "RolledBack" && during != "Completed")
      << "still retrying, not failed: " << during;
  EXPECT_NE(get(0, "/v1/simulation/ledger").status, 200) << "no ledger while the cloud is down";

  start_cloud({{"minDelayMs", 1}, {"maxDelayMs", 5}}, listen);  // same data dir and port
  ASSERT_EQ(wait_state(0, id, {"Completed", "Failed", "RolledBack"}), "Completed");
  auto shared = cloud_ledger();
  EXPECT_EQ(kinds_of(shared, before)["server"], 1) << "the ledger survived the restart";
  EXPECT_EQ(kinds_of(shared, id)["server"], 1);
  EXPECT_EQ(kinds_of(shared, id)["floating_ip"], 1);
}
