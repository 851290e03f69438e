#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {
struct HttpApi : server_fixture {
  void SetUp() override { start_server(); }
};
}  // namespace

TEST_F(HttpApi, ProvisionsAVpsEndToEnd) {
  auto r = post("/v1/requests", vps_body("acme", "ord-1"));
  ASSERT_EQ(r.status, 202) << r.body;
  auto id = body(r)["id"].get<std::string>();
  EXPECT_EQ(body(r)["state"], "Queued");
  EXPECT_EQ(r.headers["location"], "/v1/requests/" + id);
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");

  auto j = body(get("/v1/requests/" + id));
  EXPECT_EQ(j["tenantId"], "acme");
  EXPECT_EQ(j["orderId"], "ord-1");
  EXPECT_EQ(j["type"], "vps");
  EXPECT_EQ(j["clusterId"], "sim-eu-west-1");
  EXPECT_EQ(j["resources"]["memoryGb"], 4);
  EXPECT_EQ(j["metadata"]["plan"], "vps-m");
  ASSERT_EQ(j["steps"].size(), 4u);
  std::vector<std::string> names;
  for (auto& s : j["steps"]) {
    names.push_back(s["name"]);
    EXPECT_EQ(s["status"], "Completed");
    EXPECT_EQ(s["attempts"], 1);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"allocate", "configure", "activate", "verify"}));
  auto ip = j["endpoints"]["ipv4"].get<std::string>();
  EXPECT_EQ(ip.rfind("203.0.113.", 0), 0u);
  EXPECT_EQ(j["endpoints"]["ssh"], "ssh://root@" + ip + ":22");
  EXPECT_FALSE(j["createdAt"].get<std::string>().empty());

  auto evs = body(get("/v1/requests/" + id + "/events"));
  ASSERT_TRUE(evs.is_array());
  ASSERT_EQ(evs.size(), 15u);
  for (std::size_t i = 0; i < evs.size(); ++i) {
    EXPECT_EQ(evs[i]["seq"], i + 1);
    EXPECT_EQ(evs[i]["eventId"], id + ":" + std::to_string(i + 1));
  }
  EXPECT_EQ(evs[0]["type"], "request_submitted");
  EXPECT_EQ(evs[0]["data"]["tenantId"], "acme");
  EXPECT_EQ(evs.back()["type"], "request_completed");

  auto ledger = body(get("/v1/simulation/ledger"));
  ASSERT_EQ(ledger.size(), 2u);
  for (auto& e : ledger) EXPECT_EQ(e["requestId"], id);
}

TEST_F(HttpApi, ListsByTenantAndStateWithPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = post("/v1/requests", vps_body("acme", "o-" + std::to_string(i)));
    ASSERT_EQ(r.status, 202);
    ids.push_back(body(r)["id"]);
  }
  ASSERT_EQ(post("/v1/requests", vps_body("bravo", "o-b")).status, 202);
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto page = body(get("/v1/requests?tenantId=acme&state=Completed&limit=3"));
  ASSERT_EQ(page["items"].size(), 3u);
  ASSERT_TRUE(page["nextCursor"].is_string());
  auto rest = body(get("/v1/requests?tenantId=acme&state=Completed&limit=3&cursor=" + page["nextCursor"].get<std::string>()));
  ASSERT_EQ(rest["items"].size(), 2u);
  EXPECT_TRUE(rest["nextCursor"].is_null());
  std::vector<std::string> seen;
  for (auto& p : {page, rest})
    for (auto& it : p["items"]) seen.push_back(it["id"]);
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(body(get("/v1/requests?tenantId=bravo"))["items"].size(), 1u);
  EXPECT_EQ(body(get("/v1/requests?state=RolledBack"))["items"].size(), 0u);
}

TEST_F(HttpApi, IdempotencyKeyReplaysAndDetectsReuse) {
  std::map<std::string, std::string> h = {{"Idempotency-Key", "order-77"}};
  auto a = post("/v1/requests", vps_body("acme", "ord-77"), h);
  auto b = post("/v1/requests", vps_body("acme", "ord-77"), h);
  ASSERT_EQ(a.status, 202);
  ASSERT_EQ(b.status, 202);
  EXPECT_EQ(body(a)["id"], body(b)["id"]);
  EXPECT_EQ(b.headers["idempotent-replayed"], "true");
  auto c = post("/v1/requests", vps_body("acme", "ord-78"), h);
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(body(c)["error"]["code"], "conflict");
  EXPECT_EQ(body(c)["error"]["field"], "Idempotency-Key");
  // The key is per tenant.
  auto d = post("/v1/requests", vps_body("bravo", "ord-77"), h);
  EXPECT_EQ(d.status, 202);
  EXPECT_NE(body(d)["id"], body(a)["id"]);
  EXPECT_EQ(body(get("/v1/requests?tenantId=acme"))["items"].size(), 1u);
}

// A retried POST with a chosen id and the same key is the same submission:
// replayed, not a clash of ids; another body under that key, or the id
// without the key, is a 409.
TEST_F(HttpApi, AChosenIdWithTheSameKeyReplays) {
  auto with_id = [](const std::string& order) {
    auto j = nlohmann::json::parse(vps_body("acme", order));
    j["id"] = "req-chosen-1";
    return j.dump();
  };
  std::map<std::string, std::string> h = {{"Idempotency-Key", "order-90"}};
  auto a = post("/v1/requests", with_id("ord-90"), h);
  ASSERT_EQ(a.status, 202) << a.body;
  auto b = post("/v1/requests", with_id("ord-90"), h);
  ASSERT_EQ(b.status, 202) << b.body;
  EXPECT_EQ(body(b)["id"], "req-chosen-1");
  EXPECT_EQ(b.headers["idempotent-replayed"], "true");
  auto c = post("/v1/requests", with_id("ord-91"), h);
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(body(c)["error"]["field"], "Idempotency-Key");
  auto d = post("/v1/requests", with_id("ord-90"));
  EXPECT_EQ(d.status, 409);
  EXPECT_EQ(body(d)["error"]["field"], "id");
}

TEST_F(HttpApi, BadInputGetsAnErrorNamingTheField) {
  struct tc {
    std::string body, field;
  } cases[] = {
      {R"({"orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1}})", "tenantId"},
      {R"({"tenantId":"a","orderId":"o","type":"vpx","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1}})", "type"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":-2,"memoryGb":1,"storageGb":1}})", "resources.cpu"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":"4","storageGb":1}})", "resources.memoryGb"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1"})", "resources"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1","provider":"aws","resources":{"cpu":1,"memoryGb":1,"storageGb":1}})", "provider"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1},"metadata":{"x":1}})", "metadata.x"},
      {R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1},"colour":"red"})", "colour"},
      {R"({"tenantId":"a b","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1}})", "tenantId"},
      {R"({"tenantId":)", "$"},
      {R"([1,2,3])", "$"},
      {"", "$"},
  };
  for (auto& c : cases) {
    auto r = post("/v1/requests", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    auto e = body(r)["error"];
    EXPECT_EQ(e["code"], "invalid_argument") << c.body;
    EXPECT_EQ(e["field"], c.field) << c.body << " → " << r.body;
    EXPECT_FALSE(e["message"].get<std::string>().empty());
  }
  auto q = get("/v1/requests?state=Done");
  EXPECT_EQ(q.status, 400);
  EXPECT_EQ(body(q)["error"]["field"], "state");
  EXPECT_EQ(body(get("/v1/requests?limit=0"))["error"]["field"], "limit");
  EXPECT_EQ(body(get("/v1/requests?cursor=zzz"))["error"]["field"], "cursor");
  EXPECT_TRUE(body(get("/v1/requests"))["items"].empty()) << "nothing bad was stored";
}

TEST_F(HttpApi, NotFoundMethodNotAllowedAndTooLarge) {
  EXPECT_EQ(get("/v1/requests/req-nope").status, 404);
  EXPECT_EQ(body(get("/v1/requests/req-nope"))["error"]["code"], "not_found");
  EXPECT_EQ(get("/v1/requests/req-nope/events").status, 404);
  EXPECT_EQ(get("/v2/anything").status, 404);
  auto m = http_call(proc.port(), "DELETE", "/v1/requests/x");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.headers["allow"], "GET");
  EXPECT_EQ(http_call(proc.port(), "PUT", "/v1/requests", "{}").status, 405);
  auto big = post("/v1/requests", std::string(2 << 20, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(body(big)["error"]["code"], "payload_too_large");
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(HttpApi, GarbageOnTheWireDoesNotHurtTheServer) {
  for (std::string junk : {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), std::string("GET / HTTP/9.9\r\n\r\n"),
                           std::string("POST /v1/requests HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
                           std::string("NOT-HTTP\r\n\r\n")}) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(proc.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    char buf[512];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
  }
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(post("/v1/requests", vps_body("acme", "after-junk")).status, 202);
}

TEST_F(HttpApi, SigtermStopsCleanlyAndARestartKeepsEverything) {
  auto r = post("/v1/requests", vps_body("acme", "ord-9"));
  auto id = body(r)["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  EXPECT_EQ(proc.terminate(), 0);
  start_server();
  EXPECT_EQ(body(get("/v1/requests/" + id))["state"], "Completed");
  EXPECT_EQ(body(get("/v1/requests/" + id + "/events")).size(), 15u);
}

TEST_F(HttpApi, MetricsInPrometheusText) {
  auto id = body(post("/v1/requests", vps_body("acme", "ord-m")))["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  std::string text;
  for (int i = 0; i < 100; ++i) {
    auto r = get("/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u);
    text = r.body;
    if (text.find("provisiond_requests{state=\"Completed\"} 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(text.find("# TYPE provisiond_requests gauge\n"), std::string::npos);
  EXPECT_NE(text.find("provisiond_requests{state=\"Completed\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("provisiond_requests_submitted_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("provisiond_requests_completed_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("provisiond_step_duration_seconds_count{provider=\"simulation\",step=\"verify\",outcome=\"ok\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE provisiond_journal_append_seconds histogram\n"), std::string::npos);
  // 2 cluster registrations (the config's simulation clusters) + the request's 15 events.
  EXPECT_NE(text.find("provisiond_journal_last_position 17\n"), std::string::npos) << text;
}

TEST_F(HttpApi, StateAsOfAnyEventForAudits) {
  auto id = body(post("/v1/requests", vps_body("acme", "ord-audit")))["id"].get<std::string>();
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto evs = body(get("/v1/requests/" + id + "/events"));
  std::vector<std::string> states;
  for (std::size_t seq = 1; seq <= evs.size(); ++seq)
    states.push_back(body(get("/v1/requests/" + id + "/state?at=" + std::to_string(seq)))["state"]);
  EXPECT_EQ(states.front(), "Queued");
  EXPECT_EQ(states.back(), "Completed");
  auto after_first_step = body(get("/v1/requests/" + id + "/state?at=7"));
  EXPECT_EQ(evs[6]["type"], "step_completed");
  EXPECT_EQ(after_first_step["state"], "Allocating");
  EXPECT_EQ(after_first_step["steps"][0]["status"], "Completed");
  EXPECT_EQ(after_first_step["steps"][1]["status"], "Pending");
  EXPECT_EQ(after_first_step["version"], 7);
  EXPECT_EQ(body(get("/v1/requests/" + id + "/state"))["state"], "Completed") << "no at: the latest";
  EXPECT_EQ(body(get("/v1/requests/" + id + "/state?at=0"))["error"]["field"], "at");
  EXPECT_EQ(body(get("/v1/requests/" + id + "/state?at=99"))["error"]["field"], "at");
  EXPECT_EQ(get("/v1/requests/req-none/state?at=1").status, 404);
}
