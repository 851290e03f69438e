// Tenant webhooks through the real binary: the API, the SSRF checks at
// registration and at delivery, history, redelivery, test deliveries,
// deactivation and re-enabling, and kill -9 with deliveries pending. The
// receiver verifies with the reference standardwebhooks library.
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/fixture.hpp"
#include "tests/support/webhook_receiver.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Webhooks : server_fixture {
  webhook_receiver receiver;
  json cfg;

  void SetUp() override {
    std::string why;
    ASSERT_TRUE(receiver.start(&why)) << why;
    // The receiver is reached by name: loopback itself stays refused.
    cfg = {{"kafka", {{"enabled", false}}},
           {"webhooks",
            {{"allow", {"receiver.test"}},
             {"hosts", {{"receiver.test", {"127.0.0.1"}}, {"internal.test", {"10.0.0.5"}}}},
             {"retryDelaysMs", {200, 400, 800}},
             {"timeoutMs", 2000}}}};
  }
  void start() {
    write_config(cfg);
    start_server();
  }
  std::string url(const std::string& path) { return "http://receiver.test:" + std::to_string(receiver.port()) + path; }

  http_reply put(const std::string& target, const std::string& b) { return http_call(proc.port(), "PUT", target, b); }

  json create(const std::string& tenant, const json& b) {
    auto r = post("/v1/tenants/" + tenant + "/webhooks", b.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return body(r);
  }
  std::string order(const std::string& tenant, const std::string& o) {
    auto r = post("/v1/requests", vps_body(tenant, o));
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r)["id"];
  }
  json deliveries(const std::string& tenant, const std::string& hook, const std::string& query = "") {
    return body(get("/v1/tenants/" + tenant + "/webhooks/" + hook + "/deliveries?limit=500" + query));
  }
};

// Every file under `dir` that contains `needle`.
std::vector<std::string> files_containing(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in{f.path(), std::ios::binary};
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) out.push_back(f.path());
  }
  return out;
}

}  // namespace

TEST_F(Webhooks, RegistrationRefusesHostileUrlsNamingUrlAndWhy) {
  start();
  const std::vector<std::string> hostile = {
      "http://127.0.0.1/", "http://2130706433/", "http://017700000001/", "http://0177.0.0.1/", "http://0x7f000001/",
      "http://0x7f.0.0.1/", "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
      "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://0.0.0.0/", "http://0/", "http://[::]/",
      "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://0xa9fea9fe/",
      "http://[fe80::1]/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.0.1/", "http://100.64.0.1/",
      "http://[fd00::1]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://localhost/", "http://localhost./",
      "http://internal.test/", "https://internal.test:8443/x", "http://[64:ff9b::10.0.0.1]/"};
  const std::vector<std::string> malformed = {"ftp://example.com/", "file:///etc/passwd", "gopher://x/",
                                              "http://user:pw@93.184.216.34/", "http://93.184.216.34:0/",
                                              "http://93.184.216.34:70000/", "http:///nohost", "javascript:alert(1)"};
  for (auto& u : hostile) {
    auto r = post("/v1/tenants/acme/webhooks", json{{"url", u}, {"events", {"*"}}}.dump());
    EXPECT_EQ(r.status, 400) << u << ": " << r.body;
    auto e = body(r)["error"];
    EXPECT_EQ(e["field"], "url") << u;
    EXPECT_NE(e["message"].get<std::string>().find("resolves to "), std::string::npos) << u << ": " << r.body;
  }
  for (auto& u : malformed) {
    auto r = post("/v1/tenants/acme/webhooks", json{{"url", u}, {"events", {"*"}}}.dump());
    EXPECT_EQ(r.status, 400) << u << ": " << r.body;
    EXPECT_EQ(body(r)["error"]["field"], "url") << u;
  }
  EXPECT_GE(hostile.size() + malformed.size(), 30u);
  EXPECT_TRUE(body(get("/v1/tenants/acme/webhooks"))["items"].empty()) << "nothing was registered";

  // The other fields are checked too, each error naming its field.
  auto bad = [&](const json& b, const std::string& field) {
    auto r = post("/v1/tenants/acme/webhooks", b.dump());
    EXPECT_EQ(r.status, 400) << b.dump() << ": " << r.body;
    EXPECT_EQ(body(r)["error"]["field"], field) << r.body;
  };
  bad({{"url", url("/ok")}, {"events", {"request_done"}}}, "events[0]");
  bad({{"url", url("/ok")}, {"events", json::array()}}, "events");
  bad({{"url", url("/ok")}}, "events");
  bad({{"events", {"*"}}}, "url");
  bad({{"url", url("/ok")}, {"events", {"*"}}, {"secret", "mine"}}, "secret");
  bad({{"url", url("/ok")}, {"events", {"*"}}, {"enabled", "yes"}}, "enabled");
}

TEST_F(Webhooks, TheSecretIsShownOnceAndOnlyTheTenantSeesItsEndpoints) {
  start();
  auto made = create("acme", {{"url", url("/ok/acme")}, {"events", {"request_completed"}}, {"description", "billing"}});
  std::string id = made["id"], secret = made["secret"];
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
  auto got = get("/v1/tenants/acme/webhooks/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(body(got).contains("secret"));
  EXPECT_EQ(body(got)["description"], "billing");
  EXPECT_EQ(body(got)["enabled"], true);
  EXPECT_EQ(get("/v1/tenants/acme/webhooks").body.find(secret), std::string::npos);
  EXPECT_EQ(get("/v1/tenants/globex/webhooks/" + id).status, 404) << "another tenant's endpoint is not there";
  EXPECT_EQ(http_call(proc.port(), "DELETE", "/v1/tenants/globex/webhooks/" + id).status, 404);
  EXPECT_TRUE(body(get("/v1/tenants/globex/webhooks"))["items"].empty());
  create("globex", {{"url", url("/ok/globex")}, {"events", {"*"}}});
  auto all = body(get("/v1/webhooks"));
  EXPECT_EQ(all["items"].size(), 2u) << "operators see every tenant's endpoints";
  EXPECT_EQ(get("/v1/webhooks").body.find("whsec_"), std::string::npos);
  EXPECT_EQ(body(get("/v1/webhooks?tenantId=globex"))["items"].size(), 1u);

  auto rotated = post("/v1/tenants/acme/webhooks/" + id + "/rotate-secret", R"({"overlapSeconds": 60})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string fresh = body(rotated)["secret"];
  EXPECT_NE(fresh, secret);
  EXPECT_TRUE(body(rotated)["previousSecretUntil"].is_string());

  auto test = post("/v1/tenants/acme/webhooks/" + id + "/test", "");
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_EQ(body(test)["success"], true) << test.body;
  EXPECT_EQ(body(test)["statusCode"], 200);
  auto log = receiver.wait_for(1, "/ok/acme");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(json::parse(log[0]["body"].get<std::string>())["type"], "webhook.test");
  EXPECT_EQ(receiver.verify_all(fresh, "/ok/acme")["verified"], 1) << "signed with the new secret";
  EXPECT_EQ(receiver.verify_all(secret, "/ok/acme")["verified"], 1) << "and the old one, during the overlap";

  // Neither secret is anywhere in the data directory or the log: sealed at rest.
  proc.terminate();
  EXPECT_TRUE(files_containing(dir / "data", secret).empty());
  EXPECT_TRUE(files_containing(dir / "data", fresh.substr(6)).empty());
  EXPECT_TRUE(files_containing(dir.str(), fresh.substr(6)).empty()) << "not in the logs either";
}

TEST_F(Webhooks, HistoryRedeliveryDeactivationAndReEnablingThroughTheApi) {
  cfg["webhooks"]["deactivateAfter"] = 2;
  start();
  auto hook = create("acme", {{"url", url("/status/500/h")}, {"events", {"request_submitted"}}});
  std::string id = hook["id"];
  auto first = order("acme", "o-1");
  auto second = order("acme", "o-2");
  // Two deliveries, each one attempt and three retries (200/400/800 ms), then deactivated.
  for (int i = 0; i < 300 && body(get("/v1/tenants/acme/webhooks/" + id))["enabled"] == true; ++i)
    std::this_thread::sleep_for(20ms);
  auto off = body(get("/v1/tenants/acme/webhooks/" + id));
  ASSERT_EQ(off["enabled"], false) << off.dump();
  EXPECT_TRUE(off["deactivatedAt"].is_string());
  EXPECT_NE(off["deactivatedReason"].get<std::string>().find("status 500"), std::string::npos);
  auto failed = deliveries("acme", id, "&status=failed");
  ASSERT_EQ(failed["items"].size(), 2u) << failed.dump();
  for (auto& d : failed["items"]) {
    EXPECT_EQ(d["attempts"].size(), 4u);
    EXPECT_EQ(d["attempts"][0]["statusCode"], 500);
    EXPECT_EQ(d["attempts"][0]["error"], "status 500");
    EXPECT_EQ(d["eventType"], "request_submitted");
    EXPECT_TRUE(d["attempts"][0]["latencyMs"].is_number());
  }
  EXPECT_TRUE(deliveries("acme", id, "&status=succeeded")["items"].empty());
  EXPECT_EQ(get("/v1/tenants/acme/webhooks/" + id + "/deliveries?status=lost").status, 400);

  // Re-enabled on a healthy path: delivering again; a failed delivery can be sent again, same id.
  auto on = put("/v1/tenants/acme/webhooks/" + id,
                json{{"url", url("/ok/h")}, {"events", {"request_submitted"}}, {"enabled", true}}.dump());
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(body(on)["deactivatedAt"], nullptr);
  std::string again_id = failed["items"][0]["id"];
  auto redo = post("/v1/tenants/acme/webhooks/" + id + "/deliveries/" + again_id + "/redeliver", "");
  ASSERT_EQ(redo.status, 202) << redo.body;
  auto third = order("acme", "o-3");
  auto ok = receiver.wait_for(2, "/ok/h");
  ASSERT_EQ(ok.size(), 2u) << ok.dump();
  std::set<std::string> ids;
  for (auto& d : ok) ids.insert(d["headers"]["webhook-id"]);
  EXPECT_TRUE(ids.count(again_id)) << "the redelivery kept its id";
  EXPECT_EQ(receiver.verify_all(hook["secret"], "/ok/h")["verified"], 2);
  EXPECT_EQ(post("/v1/tenants/acme/webhooks/" + id + "/deliveries/msg_nope/redeliver", "").status, 404);
  (void)first;
  (void)second;
  (void)third;
}

TEST_F(Webhooks, ARedirectIsNotFollowedAndANameThatMovesToAPrivateAddressIsRefusedAtDelivery) {
  cfg["webhooks"]["hosts"]["rebind.test"] = {"93.184.216.34"};
  cfg["webhooks"]["timeoutMs"] = 500;
  start();
  auto moved = create("acme", {{"url", url("/redirect/r")}, {"events", {"request_submitted"}}});
  auto rebind = create("acme", {{"url", "http://rebind.test:1/hook"}, {"events", {"request_submitted"}}});
  order("acme", "o-1");
  for (int i = 0; i < 300 && deliveries("acme", moved["id"], "&status=failed")["items"].empty(); ++i)
    std::this_thread::sleep_for(20ms);
  auto d = deliveries("acme", moved["id"])["items"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["attempts"][0]["statusCode"], 302);
  EXPECT_EQ(d[0]["attempts"][0]["error"].get<std::string>().rfind("redirect not followed: 302 to http://127.0.0.1:9/", 0),
            0u)
      << d.dump();
  EXPECT_TRUE(receiver.log("/elsewhere").empty());

  // The name now resolves to loopback (DNS rebinding): an attempt (the
  // redelivery asked for here) is refused before connecting.
  for (int i = 0; i < 300 && deliveries("acme", rebind["id"], "&status=failed")["items"].empty(); ++i)
    std::this_thread::sleep_for(20ms);
  proc.terminate();
  cfg["webhooks"]["hosts"]["rebind.test"] = {"127.0.0.2"};
  start();
  std::string delivery = deliveries("acme", rebind["id"])["items"][0]["id"];
  auto redo = post("/v1/tenants/acme/webhooks/" + rebind["id"].get<std::string>() + "/deliveries/" + delivery + "/redeliver", "");
  ASSERT_EQ(redo.status, 202) << redo.body;
  bool blocked = false;
  for (int i = 0; i < 300 && !blocked; ++i) {
    auto now = deliveries("acme", rebind["id"]);
    for (auto& a : now["items"][0]["attempts"])
      if (a["error"].is_string() && a["error"].get<std::string>().rfind("blocked_address: resolves to 127.0.0.2", 0) == 0)
        blocked = true;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(blocked) << deliveries("acme", rebind["id"]).dump();
}

TEST_F(Webhooks, KillNineWithDeliveriesPendingEveryEventIsDeliveredWithOneId) {
  start();
  json types = completed_request_types;
  types.push_back("*");  // the lifecycle events too
  auto hook = create("acme", {{"url", url("/slow/150/k")}, {"events", types}});
  std::vector<std::string> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(order("acme", "kill-" + std::to_string(i)));
  receiver.wait_for(8, "/slow/150/k");
  proc.crash();
  auto before = receiver.log("/slow/150/k").size();
  start_server();
  for (auto& r : requests) EXPECT_EQ(wait_state(r, {"Completed"}, 60s), "Completed");
  // Every stored event under its journal type, and each request's completion as provisioning.completed.
  std::set<std::pair<std::string, std::string>> expected;
  for (auto& r : requests) {
    auto evs = body(get("/v1/requests/" + r + "/events"));
    for (auto& e : evs) {
      std::string id = e["eventId"], type = e["type"];
      expected.insert({id, type});
      if (type == "request_completed") expected.insert({id, "provisioning.completed"});
    }
  }
  // Wait for all to arrive (the slow endpoint takes 150 ms each, two at a time).
  auto deadline = std::chrono::steady_clock::now() + 90s;
  auto got = receiver.by_event("/slow/150/k");
  auto all_in = [&] {
    return std::all_of(expected.begin(), expected.end(), [&](auto& k) { return got.count(k) > 0; });
  };
  while (!all_in() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    got = receiver.by_event("/slow/150/k");
  }
  for (auto& k : expected) EXPECT_TRUE(got.count(k)) << k.first << " " << k.second << " never arrived";
  for (auto& [k, seen] : got)
    EXPECT_EQ(seen.first.size(), 1u) << k.first << " " << k.second << " was sent under " << seen.first.size() << " ids";
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, expected.size()) << "the crash landed while deliveries were pending";
  auto all = receiver.verify_all(hook["secret"], "/slow/150/k");
  EXPECT_EQ(all["verified"], all["total"]) << all.dump();
  for (int i = 0; i < 250 && !deliveries("acme", hook["id"], "&status=pending")["items"].empty(); ++i)
    std::this_thread::sleep_for(20ms);  // the last attempts' outcomes are being recorded
  EXPECT_TRUE(deliveries("acme", hook["id"], "&status=pending")["items"].empty());
}
