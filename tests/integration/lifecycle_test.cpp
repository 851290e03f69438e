// Service lifecycle against the real binary: suspend, reactivate, deprovision,
// retry, the 409s, and the same actions as Kafka commands.
#include "tests/integration/fixture.hpp"
#include "tests/support/kafka_reader.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Lifecycle : server_fixture {
  json ledger_of(const std::string& id) {
    json out = json::array();
    for (auto& e : body(get("/v1/simulation/ledger")))
      if (e["requestId"] == id) out.push_back(e);
    return out;
  }
  std::string server_power(const std::string& id) {
    for (auto& e : ledger_of(id))
      if (e["kind"] == "server") return e["attributes"].value("power", "on");
    return "";
  }
};

}  // namespace

TEST_F(Lifecycle, SuspendReactivateDeprovisionAndTheirConflicts) {
  start_server();
  auto id = body(post("/v1/requests", vps_body("acme", "o-1")))["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto early = post("/v1/requests/" + id + "/reactivate", "");
  EXPECT_EQ(early.status, 409);
  EXPECT_NE(body(early)["error"]["message"].get<std::string>().find("Completed"), std::string::npos);

  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}), "Suspended");
  EXPECT_EQ(server_power(id), "off") << "the provider stopped the service; its resources stay";
  EXPECT_EQ(ledger_of(id).size(), 2u);
  EXPECT_EQ(body(get("/v1/tenants/acme/usage"))["usage"]["instances"], 1) << "a suspended service still counts";
  EXPECT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 409);

  ASSERT_EQ(post("/v1/requests/" + id + "/reactivate", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  EXPECT_EQ(server_power(id), "on");

  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}), "RolledBack");
  for (int i = 0; i < 100 && body(get("/v1/tenants/acme/usage"))["usage"]["instances"] != 0; ++i)
    std::this_thread::sleep_for(20ms);
  auto r = body(get("/v1/requests/" + id));
  EXPECT_EQ(r["deprovisioned"], true);
  EXPECT_TRUE(ledger_of(id).empty()) << "everything destroyed at the provider";
  EXPECT_EQ(body(get("/v1/tenants/acme/usage"))["usage"]["instances"], 0) << "quota freed";
  EXPECT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 409);
  EXPECT_EQ(post("/v1/requests/" + id + "/retry", "").status, 409) << "a deprovisioned request stays gone";
  EXPECT_EQ(post("/v1/requests/req-none/suspend", "").status, 404);
  EXPECT_EQ(get("/v1/requests/" + id + "/suspend").status, 405);

  std::vector<std::string> types;
  for (auto& e : body(get("/v1/requests/" + id + "/events"))) types.push_back(e["type"]);
  for (auto t : {"service_suspended", "service_reactivated", "deprovisioned", "quota_released"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
}

TEST_F(Lifecycle, RetryRunsAFailedRequestAgain) {
  start_server();
  ASSERT_EQ(http_call(proc.port(), "PUT", "/v1/tenants/acme/quota", R"({"maxCpu":1})").status, 200);
  auto id = body(post("/v1/requests", vps_body("acme", "o-r")))["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Failed"}), "Failed");
  EXPECT_EQ(body(get("/v1/requests/" + id))["failure"]["code"], "quota_exceeded");
  ASSERT_EQ(http_call(proc.port(), "PUT", "/v1/tenants/acme/quota", R"({"maxCpu":8})").status, 200);
  auto retried = post("/v1/requests/" + id + "/retry", "");
  ASSERT_EQ(retried.status, 200) << retried.body;
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  EXPECT_EQ(post("/v1/requests/" + id + "/retry", "").status, 409) << "only Failed or RolledBack requests retry";
}

TEST_F(Lifecycle, KafkaSuspendCommandIsPublishedAsServiceSuspended) {
  start_server();
  auto id = body(post("/v1/requests", vps_body("acme", "o-k")))["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto b = body(get("/v1/system"))["kafka"]["bootstrap"].get<std::string>();
  auto cmd = json{{"commandId", "s-1"}, {"command", "suspend"}, {"tenantId", "acme"}, {"requestId", id}}.dump();
  ASSERT_TRUE(produce(b, "provisioning.commands", {cmd, cmd}));  // the second is a redelivery
  ASSERT_EQ(wait_state(id, {"Suspended"}, 30s), "Suspended");
  std::vector<kafka_record> suspended;
  for (int i = 0; i < 100 && suspended.empty(); ++i) {
    suspended = read_topic(b, "service.suspended");
    if (suspended.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(suspended.size(), 1u);
  auto ce = json::parse(suspended[0].value);
  EXPECT_EQ(ce["type"], "service.suspended");
  EXPECT_EQ(ce["subject"], id);
  EXPECT_EQ(ce["data"]["state"], "Suspended");
  int requested = 0;
  for (auto& e : body(get("/v1/requests/" + id + "/events"))) requested += e["type"] == "action_requested";
  EXPECT_EQ(requested, 1) << "the redelivered command changed nothing";
}
