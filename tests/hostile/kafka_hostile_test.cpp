// Hostile Kafka commands against the real binary and a standalone
// `provisiond kafka-dev` (so the topics outlive restarts): a command that
// used to crash the service, lifecycle commands naming another tenant, an
// engine that refuses for a while, and a process stopped for 40 s mid-burst.
#include <csignal>
#include <set>

#include "tests/integration/fixture.hpp"
#include "tests/integration/journal_check.hpp"
#include "tests/support/kafka_reader.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json provision_json(const std::string& command_id, const std::string& tenant, const std::string& order) {
  return json{{"commandId", command_id}, {"command", "provision"}, {"tenantId", tenant}, {"orderId", order},
              {"type", "vps"},           {"region", "eu-west-1"},  {"resources", {{"cpu", 1}, {"memoryGb", 2}, {"storageGb", 20}}}};
}

std::string lifecycle(const std::string& command_id, const std::string& command, const std::string& tenant,
                      const std::string& request) {
  return json{{"commandId", command_id}, {"command", command}, {"tenantId", tenant}, {"requestId", request}}.dump();
}

// A provision command whose metadata nests `depth` arrays: valid JSON well
// under 1 MiB that overflowed the stack where it was copied and dumped.
std::string deep_command(const std::string& command_id, std::size_t depth) {
  auto text = provision_json(command_id, "deep-co", "o-deep").dump();
  std::string nest(depth, '[');
  nest += std::string(depth, ']');
  text.insert(text.size() - 1, ",\"metadata\":" + nest);
  return text;
}

struct KafkaHostile : server_fixture {
  kafka_dev_process kafka;

  void SetUp() override {
    ASSERT_TRUE(kafka.start(dir / "kafka-dev.log"));
    write_config({{"kafka", {{"bootstrap", kafka.bootstrap()}}}});
  }

  std::vector<json> wait_requests(const std::string& tenant, std::size_t n, std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<json> items;
    while (std::chrono::steady_clock::now() < deadline) {
      items = list(tenant);
      if (items.size() >= n) break;
      std::this_thread::sleep_for(100ms);
    }
    return items;
  }

  std::vector<kafka_record> dlq_with(const std::string& needle, std::size_t n, std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<kafka_record> found;
    while (std::chrono::steady_clock::now() < deadline) {
      found.clear();
      for (auto& r : read_topic(kafka.bootstrap(), "provisioning.commands.dlq"))
        if (r.value.find(needle) != std::string::npos) found.push_back(r);
      if (found.size() >= n) break;
      std::this_thread::sleep_for(100ms);
    }
    return found;
  }

  double metric(const std::string& name) {
    auto text = get("/metrics").body;
    auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name.size() + 2));
  }
};

}  // namespace

TEST_F(KafkaHostile, ACommandThatUsedToCrashTheServiceIsDeadLetteredOnceAndSurvivesRestarts) {
  start_server();
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {provision_json("before", "deep-co", "o-1").dump()}));
  auto before = wait_requests("deep-co", 1);
  ASSERT_EQ(before.size(), 1u);
  auto deep = deep_command("poison-1", 200'000);
  ASSERT_LT(deep.size(), 1u << 20);
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {deep, provision_json("after", "deep-co", "o-2").dump()}));
  auto dead = dlq_with("poison-1", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, deep) << "the original bytes are kept";
  EXPECT_EQ(dead[0].headers["provisiond-dlq-reason"].rfind("metadata[0][0]", 0), 0u) << dead[0].headers["provisiond-dlq-reason"];
  EXPECT_NE(dead[0].headers["provisiond-dlq-reason"].find("deeper than 64"), std::string::npos);
  EXPECT_EQ(wait_requests("deep-co", 2).size(), 2u) << "the command after the poison is taken";
  EXPECT_EQ(get("/healthz").status, 200);

  // Restarts: the poison was committed, so nothing consumes it again.
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(proc.terminate(), 0);
    start_server();
    ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands",
                        {provision_json("restart-" + std::to_string(i), "deep-co", "o-r" + std::to_string(i)).dump()}));
    EXPECT_EQ(wait_requests("deep-co", 3 + i).size(), 3u + i);
    EXPECT_EQ(get("/readyz").status, 200);
  }
  EXPECT_EQ(dlq_with("poison-1", 1).size(), 1u) << "dead-lettered once, not at every start";
  auto items = list("deep-co");
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(body(get("/v1/requests/" + before[0]["id"].get<std::string>()))["orderId"], "o-1") << "earlier data intact";
}

TEST_F(KafkaHostile, LifecycleCommandsMustNameTheRequestsOwnTenant) {
  start_server();
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {provision_json("own-1", "victim-co", "o-v").dump()}));
  auto items = wait_requests("victim-co", 1);
  ASSERT_EQ(items.size(), 1u);
  std::string id = items[0]["id"];
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");

  auto attack = lifecycle("attack-1", "deprovision", "mallory-co", id);
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {attack}));
  auto dead = dlq_with("attack-1", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].headers["provisiond-dlq-reason"].rfind("tenantId:", 0), 0u) << dead[0].headers["provisiond-dlq-reason"];
  std::this_thread::sleep_for(500ms);
  auto after = body(get("/v1/requests/" + id));
  EXPECT_EQ(after["state"], "Completed") << "another tenant's command changed nothing";
  auto events = body(get("/v1/requests/" + id + "/events"));
  EXPECT_EQ(events.back()["type"], "request_completed") << "nothing recorded for the foreign command";

  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", {lifecycle("own-2", "suspend", "victim-co", id)}));
  EXPECT_EQ(wait_state(id, {"Suspended"}), "Suspended") << "the owner's command still works";
}

TEST_F(KafkaHostile, AnEngineThatRefusesForAWhileIsWaitedForNeverSkipped) {
  ::setenv("PROVISIOND_FAILPOINT", "intake-unavailable=6", 1);
  start_server();
  ::unsetenv("PROVISIOND_FAILPOINT");
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands",
                      {provision_json("wait-1", "patient-co", "o-1").dump(), provision_json("wait-2", "patient-co", "o-2").dump()}));
  bool seen_retrying = false, seen_unready = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !(seen_retrying && seen_unready)) {
    seen_retrying |= metric("provisiond_intake_state") == 1;
    seen_unready |= get("/readyz").status == 503;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(seen_retrying) << "/metrics shows the intake retrying";
  EXPECT_TRUE(seen_unready) << "/readyz is 503 while commands are not consumed";
  auto items = wait_requests("patient-co", 2, 90s);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["orderId"], "o-1") << "in order: the refused command was not skipped";
  EXPECT_EQ(metric("provisiond_intake_state"), 0);
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(dlq_with("wait-", 1, 1s).size(), 0u) << "nothing was dead-lettered";
}

TEST_F(KafkaHostile, StoppedFortySecondsMidBurstEveryCommandIsTakenExactlyOnce) {
  start_server();
  constexpr int total = 300;
  std::vector<std::string> commands;
  for (int i = 0; i < total; ++i)
    commands.push_back(provision_json("burst-" + std::to_string(i), "burst-co", "o-" + std::to_string(i)).dump());
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", commands));
  for (int i = 0; i < 400 && list("burst-co").size() < 20; ++i) std::this_thread::sleep_for(10ms);
  proc.signal(SIGSTOP);
  std::this_thread::sleep_for(40s);
  proc.signal(SIGCONT);
  auto items = wait_requests("burst-co", total, 120s);
  std::this_thread::sleep_for(2s);  // a late duplicate would show up now
  items = list("burst-co");
  ASSERT_EQ(items.size(), static_cast<std::size_t>(total));
  std::set<std::string> orders;
  for (auto& it : items) orders.insert(it["orderId"].get<std::string>());
  EXPECT_EQ(orders.size(), static_cast<std::size_t>(total)) << "exactly once";
  for (int i = 0; i < 100 && get("/readyz").status != 200; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(dlq_with("burst-", 1, 1s).size(), 0u);
  EXPECT_EQ(proc.terminate(), 0);
  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), static_cast<std::size_t>(total));
}
