// Kafka in and out, against the real binary: kcat as the independent client,
// the dead-letter topic, redelivered commands, and a crash between the
// journal commit and the publish.
#include <mutex>
#include <sstream>

#include "tests/integration/fixture.hpp"
#include "tests/integration/journal_check.hpp"
#include "tests/support/kafka_reader.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Kafka : server_fixture {
  std::string bootstrap() { return body(get("/v1/system"))["kafka"]["bootstrap"]; }

  // kcat consume of a whole topic: one "key<TAB>value" line per record.
  std::vector<std::pair<std::string, json>> kcat_topic(const std::string& b, const std::string& topic) {
    auto out = shell("kcat -b " + b + " -C -t " + topic + " -o beginning -e -q -f '%k\\t%s\\n' 2>/dev/null");
    std::vector<std::pair<std::string, json>> records;
    std::istringstream in{out};
    std::string line;
    while (std::getline(in, line)) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      records.emplace_back(line.substr(0, tab), json::parse(line.substr(tab + 1), nullptr, false));
    }
    return records;
  }

  std::vector<json> for_request(const std::vector<std::pair<std::string, json>>& records, const std::string& id) {
    std::vector<json> out;
    for (auto& [k, v] : records)
      if (k == id) out.push_back(v);
    return out;
  }
};

std::string provision(const std::string& command_id, const std::string& tenant, const std::string& order) {
  return json{{"commandId", command_id}, {"command", "provision"}, {"tenantId", tenant}, {"orderId", order},
              {"type", "vps"},           {"region", "eu-west-1"},  {"resources", {{"cpu", 1}, {"memoryGb", 2}, {"storageGb", 20}}}}
      .dump();
}

}  // namespace

TEST_F(Kafka, KcatProvisionCommandThenKcatSeesTheLifecycleInOrder) {
  start_server();
  auto sys = body(get("/v1/system"));
  ASSERT_EQ(sys["kafka"]["embedded"], true);
  auto b = bootstrap();
  ASSERT_FALSE(b.empty());
  shell("printf '%s\\n' '" + provision("cmd-kcat-1", "kcat-co", "order-k1") +
        "' | kcat -b " + b + " -P -t provisioning.commands -k order-k1");
  std::string id;
  for (int i = 0; i < 300 && id.empty(); ++i) {
    auto items = list("kcat-co");
    if (!items.empty()) id = items[0]["id"];
    else std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(id.empty()) << "the command was not taken in";
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");

  std::vector<json> completed;
  for (int i = 0; i < 100 && completed.empty(); ++i) {
    completed = for_request(kcat_topic(b, "provisioning.completed"), id);
    if (completed.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]["data"]["endpoints"]["ssh"].get<std::string>().rfind("ssh://root@203.0.113.", 0), 0u);

  auto journal = for_request(kcat_topic(b, "provisioning.journal"), id);
  std::vector<std::string> types;
  for (std::size_t i = 0; i < journal.size(); ++i) {
    auto& ce = journal[i];
    EXPECT_EQ(ce["specversion"], "1.0");
    EXPECT_EQ(ce["id"], id + ":" + std::to_string(i + 1)) << "in stream order";
    EXPECT_EQ(ce["subject"], id);
    EXPECT_EQ(ce["type"], "provisioning.journal");
    EXPECT_EQ(ce["datacontenttype"], "application/json");
    EXPECT_EQ(ce["data"]["tenantId"], "kcat-co");
    EXPECT_EQ(ce["data"]["orderId"], "order-k1");
    types.push_back(ce["data"]["eventType"]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"request_submitted", "quota_reserved", "request_admitted", "cluster_placed",
                                             "step_started", "resource_allocated",
                                             "step_completed", "step_started", "resource_allocated", "step_completed",
                                             "step_started", "step_completed", "step_started", "step_completed",
                                             "request_completed"}));
  std::map<std::string, std::size_t> expected = {{"provisioning.started", 1},     {"provisioning.step-completed", 4},
                                                 {"resource.allocated", 2},       {"service.activated", 1},
                                                 {"provisioning.completed", 1},   {"provisioning.failed", 0},
                                                 {"provisioning.rolled-back", 0}};
  for (auto& [topic, n] : expected) {
    auto recs = for_request(kcat_topic(b, topic), id);
    EXPECT_EQ(recs.size(), n) << topic;
    for (auto& ce : recs) EXPECT_EQ(ce["type"], topic);
  }
  auto steps = for_request(kcat_topic(b, "provisioning.step-completed"), id);
  std::vector<std::string> step_names;
  for (auto& ce : steps) step_names.push_back(ce["data"]["step"]);
  EXPECT_EQ(step_names, (std::vector<std::string>{"allocate", "configure", "activate", "verify"}));
  EXPECT_EQ(for_request(kcat_topic(b, "provisioning.started"), id)[0]["data"]["state"], "Allocating");
}

TEST_F(Kafka, GarbageCommandsLandInTheDeadLetterTopicWithAReason) {
  start_server();
  auto b = bootstrap();
  std::vector<std::string> bad = {
      "this is not json",
      R"({"commandId":42,"command":"provision","tenantId":"t"})",
      R"({"commandId":"g-3","command":"explode","tenantId":"t"})",
      R"({"commandId":"g-4","command":"provision","tenantId":"t"})",
      R"({"commandId":"g-5","command":"provision","tenantId":"t","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":"two","memoryGb":1,"storageGb":1}})",
      R"({"commandId":"g-6","command":"suspend","tenantId":"t","requestId":"req-1"})",
      R"({"commandId":"g-7","command":"provision","pad":")" + std::string(1100000, 'x') + "\"}",
  };
  ASSERT_TRUE(produce(b, "provisioning.commands", bad));
  std::vector<kafka_record> dlq;
  for (int i = 0; i < 200 && dlq.size() < bad.size(); ++i) {
    dlq = read_topic(b, "provisioning.commands.dlq");
    if (dlq.size() < bad.size()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(dlq.size(), bad.size());
  std::map<std::string, std::string> reason_by_value;
  for (auto& r : dlq) {
    EXPECT_FALSE(r.headers["provisiond-dlq-reason"].empty());
    EXPECT_EQ(r.headers["provisiond-dlq-origin"].rfind("provisioning.commands/", 0), 0u);
    reason_by_value[r.value] = r.headers["provisiond-dlq-reason"];
  }
  for (auto& v : bad) ASSERT_TRUE(reason_by_value.count(v)) << "original bytes kept: " << v.substr(0, 60);
  EXPECT_EQ(reason_by_value[bad[0]], "$: value is not valid JSON");
  EXPECT_EQ(reason_by_value[bad[1]].rfind("commandId:", 0), 0u);
  EXPECT_EQ(reason_by_value[bad[2]].rfind("command:", 0), 0u);
  EXPECT_EQ(reason_by_value[bad[3]].rfind("orderId:", 0), 0u);
  EXPECT_EQ(reason_by_value[bad[4]].rfind("resources.cpu:", 0), 0u);
  EXPECT_NE(reason_by_value[bad[5]].find("no request req-1"), std::string::npos) << reason_by_value[bad[5]];
  EXPECT_NE(reason_by_value[bad[6]].find("1 MiB"), std::string::npos);

  EXPECT_EQ(get("/healthz").status, 200);
  ASSERT_TRUE(produce(b, "provisioning.commands", {provision("g-ok", "tenant-g", "o-ok")}));
  std::vector<json> items;
  for (int i = 0; i < 200 && items.empty(); ++i) {
    items = list("tenant-g");
    if (items.empty()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(items.size(), 1u) << "the consumer moved on after the garbage";
}

TEST_F(Kafka, RedeliveredCommandsCreateNothingTwice) {
  kafka_dev_process kafka;
  ASSERT_TRUE(kafka.start(dir / "kafka-dev.log"));
  write_config({{"kafka", {{"bootstrap", kafka.bootstrap()}}}});
  start_server();
  EXPECT_EQ(body(get("/v1/system"))["kafka"]["embedded"], false);
  std::vector<std::string> commands;
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 100; ++i) commands.push_back(provision("redeliver-" + std::to_string(i), "tenant-r", "o-" + std::to_string(i)));
  ASSERT_TRUE(produce(kafka.bootstrap(), "provisioning.commands", commands));
  // Crash while commands are being taken in: uncommitted ones come back.
  for (int i = 0; i < 400 && list("tenant-r").size() < 30; ++i) std::this_thread::sleep_for(25ms);
  proc.crash();
  start_server();
  std::vector<json> items;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    items = list("tenant-r");
    if (items.size() >= 100) break;
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(1s);  // anything redelivered late would show up now
  items = list("tenant-r");
  ASSERT_EQ(items.size(), 100u);
  std::set<std::string> orders;
  for (auto& it : items) orders.insert(it["orderId"].get<std::string>());
  EXPECT_EQ(orders.size(), 100u);
  EXPECT_EQ(proc.terminate(), 0);
  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), 100u);
}

TEST_F(Kafka, CrashBetweenJournalCommitAndPublishLosesNothing) {
  kafka_dev_process kafka;
  ASSERT_TRUE(kafka.start(dir / "kafka-dev.log"));
  write_config({{"kafka", {{"bootstrap", kafka.bootstrap()}}}, {"simulation", {{"maxDelayMs", 10}}}});
  start_server();
  std::vector<std::string> ids;
  std::mutex mutex;
  std::atomic<std::uint16_t> port{proc.port()};
  std::atomic<int> next{0};
  constexpr int total = 900;
  // 8 clients post continuously (same Idempotency-Key on retries) while the
  // main thread kills provisiond -9 three times mid-publish.
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        for (;;) {
          auto r = http_call(port.load(), "POST", "/v1/requests", vps_body("tenant-c", "o-" + std::to_string(i)),
                             {{"Idempotency-Key", "c-" + std::to_string(i)}});
          if (r.status == 202) {
            std::lock_guard lock{mutex};
            ids.push_back(body(r)["id"]);
            break;
          }
          std::this_thread::sleep_for(20ms);
        }
        std::this_thread::sleep_for(15ms);  // a steady flow rather than one burst
      }
    });
  std::size_t pending_at_kills = 0, published_by_killed = 0;
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(1600ms);  // the relay needs about a second to connect
    auto sys = body(get("/v1/system"));
    pending_at_kills += sys["outbox"]["pending"].get<std::size_t>();
    published_by_killed += sys["outbox"]["published"].get<std::size_t>();
    proc.crash();
    port = 0;
    start_server();
    port = proc.port();
  }
  for (auto& t : clients) t.join();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(total));
  EXPECT_GT(pending_at_kills, 0u) << "the kills should land with unpublished events in the outbox";
  EXPECT_GT(published_by_killed, 0u) << "the kills should land while the relay is publishing";
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}, 60s), "Completed");
  // The restarted relay publishes what the killed ones left in the outbox.
  for (int i = 0; i < 600 && body(get("/v1/system"))["outbox"]["pending"] != 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(body(get("/v1/system"))["outbox"]["pending"], 0);
  EXPECT_EQ(proc.terminate(), 0);

  auto summary = check_journal(dir / "data/journal");
  std::set<std::string> expected;
  for (auto& [id, st] : summary.requests)
    for (std::uint64_t s = 1; s <= st.version; ++s) expected.insert(id + ":" + std::to_string(s));
  std::map<std::string, std::string> by_id;
  std::size_t duplicates = 0;
  for (auto& r : read_topic(kafka.bootstrap(), "provisioning.journal")) {
    auto ce = json::parse(r.value);
    auto [it, fresh] = by_id.emplace(ce["id"].get<std::string>(), r.value);
    if (!fresh) {
      ++duplicates;
      EXPECT_EQ(it->second, r.value) << "a re-published event must be identical, id " << it->first;
    }
  }
  std::vector<std::string> missing;
  for (auto& id : expected)
    if (!by_id.count(id)) missing.push_back(id);
  EXPECT_TRUE(missing.empty()) << missing.size() << " missing, e.g. " << (missing.empty() ? "" : missing[0]);
  std::printf("crash/publish: %zu events expected, %zu unpublished at the kills (killed relays had published %zu), "
              "%zu distinct on Kafka, %zu duplicates (same id, same bytes)\n",
              expected.size(), pending_at_kills, published_by_killed, by_id.size(), duplicates);
}
