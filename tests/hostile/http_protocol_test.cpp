// The corners of HTTP/1.x against the real binary: pipelining, HTTP/1.0 with
// and without keep-alive, Expect: 100-continue, invalid UTF-8 in a JSON body,
// a target or header block over its limit (414, 431), huge header counts.
// After all of it the process is up, its RSS stayed bounded and what was
// submitted before is intact.
#include <atomic>
#include <thread>

#include "tests/hostile/raw_conn.hpp"
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

struct HttpProtocol : server_fixture {
  int pid = -1;
  std::string auth;  // the admin's Authorization line for requests written by hand

  void SetUp() override {
    start_server();
    pid = pid_with_argument(dir / "data");
    ASSERT_GT(pid, 0);
    auth = admin_authorization_line(dir / "data");
  }

  static json error_of(const http_reply& r) { return body(r)["error"]; }

  std::string submit(const std::string& tenant, const std::string& order) {
    auto r = post("/v1/requests", vps_body(tenant, order));
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r)["id"];
  }

  // One request over a fresh connection, exactly as given; its reply.
  http_reply send_raw(const std::string& bytes, std::string* version = nullptr) {
    raw_conn c{proc.port(), "127.0.0.1"};
    EXPECT_TRUE(c.connected());
    c.send(bytes);
    return c.read_reply(version);
  }
};

std::string post_request(const std::string& body, const std::string& extra_headers = {}) {
  return "POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

std::string get_request(const std::string& target, const std::string& extra_headers = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

std::string headers_of(std::size_t count, std::size_t value_bytes) {
  std::string h;
  for (std::size_t i = 0; i < count; ++i)
    h += "X-H" + std::to_string(i) + ": " + std::string(value_bytes, 'v') + "\r\n";
  return h;
}

}  // namespace

TEST_F(HttpProtocol, PipelinedRequestsInOneWriteAreAnsweredInOrder) {
  auto id = submit("pipe-co", "o-before");
  // Given three requests in one write, the last asking to close,
  raw_conn c{proc.port(), "127.0.0.1"};
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get_request("/v1/requests/" + id, auth) + post_request(vps_body("pipe-co", "o-piped"), auth) +
                     get_request("/v1/requests?tenantId=pipe-co", auth + "Connection: close\r\n")));
  // then the answers come in the order asked, each complete,
  auto first = c.read_reply();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(body(first)["orderId"], "o-before");
  auto second = c.read_reply();
  ASSERT_EQ(second.status, 202) << second.body;
  auto third = c.read_reply();
  ASSERT_EQ(third.status, 200) << third.body;
  std::vector<std::string> orders;
  auto listed = body(third);
  for (auto& it : listed["items"]) orders.push_back(it["orderId"]);
  EXPECT_EQ(orders, (std::vector<std::string>{"o-before", "o-piped"})) << third.body;
  // and the connection is closed after the last.
  EXPECT_EQ(third.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpProtocol, PipelinedRequestsSplitAcrossWritesKeepTheirBoundaries) {
  // A body split mid-way and the next request glued to its end.
  auto one = post_request(vps_body("split-co", "o-1"), auth);
  auto two = get_request("/v1/requests?tenantId=split-co", auth + "Connection: close\r\n");
  raw_conn c{proc.port(), "127.0.0.1"};
  ASSERT_TRUE(c.send(one.substr(0, one.size() - 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(c.send(one.substr(one.size() - 10) + two));
  EXPECT_EQ(c.read_reply().status, 202);
  auto list = c.read_reply();
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(body(list)["items"].size(), 1u);
}

TEST_F(HttpProtocol, Http10WithoutKeepAliveIsAnsweredAndClosed) {
  raw_conn c{proc.port(), "127.0.0.1"};
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
  std::string version;
  auto r = c.read_reply(&version);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(version, "HTTP/1.0");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpProtocol, Http10WithKeepAliveServesASecondRequestOnTheSameConnection) {
  raw_conn c{proc.port(), "127.0.0.1"};
  auto body_text = vps_body("ten-co", "o-10");
  ASSERT_TRUE(c.send("POST /v1/requests HTTP/1.0\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n" +
                     auth + "Content-Length: " + std::to_string(body_text.size()) + "\r\n\r\n" + body_text));
  std::string version;
  auto created = c.read_reply(&version);
  ASSERT_EQ(created.status, 202) << created.body;
  EXPECT_EQ(version, "HTTP/1.0");
  EXPECT_EQ(created.headers["connection"], "keep-alive");
  ASSERT_TRUE(c.send("GET /v1/requests/" + body(created)["id"].get<std::string>() +
                     " HTTP/1.0\r\nConnection: keep-alive\r\n" + auth + "\r\n"));
  auto again = c.read_reply();
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(body(again)["orderId"], "o-10");
  // A 1.0 request without keep-alive ends it.
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(c.read_reply().status, 200);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpProtocol, ExpectContinueCornerCases) {
  auto body_text = vps_body("cont-co", "o-c1");
  // HTTP/1.0 has no 100 Continue: the body is read and answered at once.
  {
    raw_conn c{proc.port(), "127.0.0.1"};
    ASSERT_TRUE(c.send("POST /v1/requests HTTP/1.0\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n" +
                       auth + "Content-Length: " + std::to_string(body_text.size()) + "\r\n\r\n" + body_text));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 202) << r.body;
  }
  // A client that sends the body without waiting gets the 100 and then the answer.
  {
    raw_conn c{proc.port(), "127.0.0.1"};
    ASSERT_TRUE(c.send(post_request(vps_body("cont-co", "o-c2"), auth + "Expect: 100-continue\r\n")));
    EXPECT_EQ(c.read_head(), "HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_EQ(c.read_reply().status, 202);
  }
  // A head refused (a bad header) gets its 400 and no 100.
  {
    raw_conn c{proc.port(), "127.0.0.1"};
    ASSERT_TRUE(
        c.send("POST /v1/requests HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nX-Bad: \xff\r\n"
               "Content-Length: 10\r\n\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_of(r)["field"], "X-Bad");
  }
  // An Expect with a request that has no body needs no 100.
  {
    raw_conn c{proc.port(), "127.0.0.1"};
    ASSERT_TRUE(c.send(get_request("/healthz", "Expect: 100-continue\r\nConnection: close\r\n")));
    EXPECT_EQ(c.read_reply().status, 200);
  }
  EXPECT_EQ(list("cont-co").size(), 2u);
}

TEST_F(HttpProtocol, InvalidUtf8InAJsonBodyIs400NamingTheField) {
  struct probe {
    std::string body, field;
  };
  for (auto& [text, field] : {
           probe{"{\"tenantId\":\"acme\",\"orderId\":\"o-\xff\",\"type\":\"vps\",\"region\":\"eu-west-1\","
                 "\"resources\":{\"cpu\":1,\"memoryGb\":1,\"storageGb\":1}}",
                 "orderId"},
           probe{"{\"tenantId\":\"acme\",\"orderId\":\"o-1\",\"type\":\"vps\",\"region\":\"eu-west-1\","
                 "\"resources\":{\"cpu\":1,\"memoryGb\":1,\"storageGb\":1},\"metadata\":{\"plan\":\"\xc3\x28\"}}",
                 "metadata.plan"},
           probe{"{\"tenantId\":\"acme\",\"orderId\":\"o-1\",\"type\":\"vps\",\"region\":\"eu-west-1\","
                 "\"resources\":{\"cpu\":1,\"memoryGb\":1,\"storageGb\":1},\"dependsOn\":[\"\xed\xa0\x80\"]}",
                 "dependsOn[0]"},
           probe{"{\"tenantId\":\"acme\",\"orderId\":\"o-1\",\"type\":\"vps\",\"region\":\"eu-west-1\","
                 "\"resources\":{\"cpu\":1e999,\"memoryGb\":1,\"storageGb\":1}}",
                 "resources.cpu"},
       }) {
    auto r = post("/v1/requests", text);
    ASSERT_EQ(r.status, 400) << field << ": " << r.body;
    EXPECT_EQ(error_of(r)["code"], "invalid_argument");
    EXPECT_EQ(error_of(r)["field"], field) << r.body;
    EXPECT_EQ(r.body.find('\xff'), std::string::npos) << "the bytes are not echoed";
  }
  EXPECT_EQ(list("acme").size(), 0u) << "nothing was created";
}

TEST_F(HttpProtocol, ATargetOverItsLimitIs414) {
  // 9 KiB of target: parsed, then refused.
  auto r = send_raw(get_request("/v1/requests?tenantId=" + std::string(9 * 1024, 'a')));
  ASSERT_EQ(r.status, 414) << r.body;
  EXPECT_EQ(error_of(r)["code"], "uri_too_long");
  EXPECT_EQ(error_of(r)["field"], "target");
  EXPECT_EQ(r.headers["connection"], "close");
  // A request line past the whole header limit: refused before it ends.
  auto huge = send_raw("GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(huge.status, 414) << huge.body;
  EXPECT_EQ(error_of(huge)["code"], "uri_too_long");
  // Just under the limit is an ordinary request (a 404 here).
  EXPECT_EQ(send_raw(get_request("/" + std::string(8 * 1024 - 1, 'a'), "Connection: close\r\n")).status, 404);
}

TEST_F(HttpProtocol, HeaderLinesBlocksAndCountsOverTheLimitsAre431) {
  // One header line over 8 KiB, named.
  auto line = send_raw(get_request("/healthz", "X-Long: " + std::string(9 * 1024, 'v') + "\r\n"));
  ASSERT_EQ(line.status, 431) << line.body;
  EXPECT_EQ(error_of(line)["code"], "request_header_fields_too_large");
  EXPECT_EQ(error_of(line)["field"], "X-Long");
  // 80 lines of 1 KiB: each under the line limit, together over 64 KiB.
  auto block = send_raw(get_request("/healthz", headers_of(80, 1024)));
  ASSERT_EQ(block.status, 431) << block.body;
  EXPECT_EQ(error_of(block)["field"], "headers");
  // 5,000 tiny header lines (under 64 KiB in all): too many.
  auto many = send_raw(get_request("/healthz", headers_of(5000, 1)));
  ASSERT_EQ(many.status, 431) << many.body;
  EXPECT_EQ(error_of(many)["field"], "headers");
  EXPECT_NE(error_of(many)["message"].get<std::string>().find("more than 100"), std::string::npos);
  // 90 headers are fine.
  EXPECT_EQ(send_raw(get_request("/healthz", headers_of(90, 16) + "Connection: close\r\n")).status, 200);
}

TEST_F(HttpProtocol, AfterAHostileBarrageTheProcessIsUpItsMemoryBoundedAndEarlierDataIntact) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(submit("keep-co", "o-keep-" + std::to_string(i)));
  for (auto& id : ids) wait_state(id, {"Completed"});
  long before = rss_kib(pid);
  ASSERT_GT(before, 0);
  // Eight clients at once, each 50 rounds of the worst heads and bodies.
  auto body_text = vps_body("keep-co", "o-x");
  std::vector<std::string> barrage = {
      get_request("/healthz", headers_of(6000, 4)),                                    // huge header count
      get_request("/healthz", headers_of(70, 1000)),                                   // header block over 64 KiB
      "GET /" + std::string(80 * 1024, 'a') + " HTTP/1.1\r\n\r\n",                     // request line past 64 KiB
      post_request(std::string(R"({"metadata":)") + std::string(100'000, '['), auth),  // deep and unfinished
      post_request(R"({"orderId":")" + std::string(900 * 1024, 'x') + "\"}", auth),    // one 900 KiB string
      get_request("/healthz", "Expect: 100-continue\r\nContent-Length: 99999999\r\n"),
  };
  std::atomic<int> answered{0}, unanswered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&] {
      for (int round = 0; round < 50; ++round)
        for (auto& bytes : barrage) {
          raw_conn c{proc.port(), "127.0.0.1"};
          c.send(bytes);
          auto r = c.read_reply();
          // 401 would mean the body was never looked at.
          (r.status >= 400 && r.status < 500 && r.status != 401 ? answered : unanswered)++;
        }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(unanswered.load(), 0) << "every hostile request got its 4xx";
  EXPECT_EQ(answered.load(), 8 * 50 * static_cast<int>(barrage.size()));
  ASSERT_TRUE(proc.alive());
  EXPECT_EQ(get("/healthz").status, 200);
  long after = rss_kib(pid);
  std::printf("provisiond RSS before the barrage %ld KiB, after %ld KiB (%d hostile requests)\n", before, after,
              answered.load());
  EXPECT_LT(after - before, 128 * 1024) << "RSS grew by " << (after - before) << " KiB";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto r = get("/v1/requests/" + ids[i]);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(body(r)["orderId"], "o-keep-" + std::to_string(i));
    EXPECT_EQ(body(r)["state"], "Completed");
  }
  EXPECT_EQ(list("keep-co").size(), ids.size()) << "nothing else was created";
}

TEST_F(HttpProtocol, IdsKeysAndNumbersOutOfTheirFormatAre400NamingTheField) {
  auto with = [](const std::string& field, const json& value) {
    json j = json::parse(vps_body("fmt-co", "o-1"));
    j[field] = value;
    return j.dump();
  };
  struct bad_case {
    std::string body, field;
  };
  json big_cpu = json::parse(vps_body("fmt-co", "o-1"));
  big_cpu["resources"]["cpu"] = 1e30;
  json neg_disk = json::parse(vps_body("fmt-co", "o-1"));
  neg_disk["resources"]["storageGb"] = -1;
  std::vector<bad_case> cases = {
      {with("tenantId", std::string(65, 't')), "tenantId"},
      {with("tenantId", "acme/x"), "tenantId"},
      {with("id", std::string(65, 'r')), "id"},
      {with("id", "req 1"), "id"},
      {with("orderId", std::string(129, 'o')), "orderId"},
      {with("dependsOn", json::array({"req-1", "../x"})), "dependsOn"},
      {with("tenantId", 7), "tenantId"},
      {big_cpu.dump(), "resources.cpu"},
      {neg_disk.dump(), "resources.storageGb"},
  };
  for (auto& c : cases) {
    auto r = post("/v1/requests", c.body);
    EXPECT_EQ(r.status, 400) << c.field << ": " << r.body;
    EXPECT_EQ(error_of(r)["field"], c.field) << r.body;
  }
  for (auto& key : {std::string(129, 'k'), std::string("a key")}) {
    auto r = post("/v1/requests", vps_body("fmt-co", "o-2"), {{"Idempotency-Key", key}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_of(r)["field"], "Idempotency-Key") << r.body;
  }
  EXPECT_EQ(get("/v1/requests?tenantId=" + std::string(65, 't')).status, 400);
  EXPECT_EQ(get("/v1/requests/" + std::string(65, 'r')).status, 404);
  EXPECT_EQ(list("fmt-co").size(), 0u) << "nothing was created";
  EXPECT_EQ(post("/v1/requests", vps_body("fmt-co", "o-3"), {{"Idempotency-Key", std::string(128, 'k')}}).status, 202)
      << "the longest key is taken";
}
