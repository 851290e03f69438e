// Hostile clients against the real binary: malformed targets and header
// values, Expect: 100-continue, slowloris and connection floods from one
// address (127.0.0.2, another loopback address) while 127.0.0.1 is served.
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "tests/hostile/raw_conn.hpp"
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

const char* const hostile_address = "127.0.0.2";

struct HttpHostile : server_fixture {
  void start_with(json http) {
    write_config({{"http", std::move(http)}});
    start_server();
  }
  void SetUp() override {}

  json error_of(const http_reply& r) { return body(r)["error"]; }

  /// The value of the unlabelled or labelled series `series` in /metrics, or -1.
  double metric(const std::string& series) {
    auto text = get("/metrics").body;
    auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
  }
};

std::string post_header(std::size_t content_length, bool expect_continue, const std::string& auth = {}) {
  std::string h =
      "POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(content_length) + "\r\n" + auth;
  if (expect_continue) h += "Expect: 100-continue\r\n";
  return h + "\r\n";
}

}  // namespace

TEST_F(HttpHostile, InvalidUtf8InTheTargetIs400NamingThePlace) {
  start_with({{"maxConnections", 64}});
  struct probe {
    std::string target, field;
  };
  for (auto& [target, field] :
       {probe{"/v1/requests/%FF", "path segment 3"}, probe{"/v1/requests/%C3%28/events", "path segment 3"},
        probe{"/v1/requests?%FF=1", "query parameter 1"}, probe{"/v1/requests?limit=2&%C0%AF=x", "query parameter 2"},
        probe{"/v1/requests?tenantId=%C3%28", "query parameter tenantId"},
        probe{"/v1/requests?tenantId=a%00b", "query parameter tenantId"}}) {
    auto r = get(target);
    ASSERT_EQ(r.status, 400) << target << " " << r.body;
    EXPECT_EQ(error_of(r)["code"], "invalid_argument") << target;
    EXPECT_EQ(error_of(r)["field"], field) << target;
    EXPECT_TRUE(error_of(r)["message"].is_string()) << target;
  }
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(HttpHostile, ExpectContinueAnswers100BeforeTheBodyAnd413WithoutIt) {
  start_with({{"maxConnections", 64}});
  // Given a client that sends only the header and waits,
  auto body_text = vps_body("acme", "ord-continue");
  raw_conn c{proc.port(), "127.0.0.1", 5};
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(post_header(body_text.size(), true, admin_authorization_line(dir / "data"))));
  // then it is told to continue before it sends the body, and gets the real answer after.
  EXPECT_EQ(c.read_head(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send(body_text));
  auto r = c.read_reply();
  EXPECT_EQ(r.status, 202) << r.body;

  // Given a Content-Length over the 1 MiB limit, the answer is 413 without sending a body.
  raw_conn big{proc.port(), "127.0.0.1", 5};
  ASSERT_TRUE(big.send(post_header(2 << 20, true)));
  auto too_large = big.read_reply();
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(error_of(too_large)["code"], "payload_too_large");
  EXPECT_TRUE(big.closed_by_server());
}

TEST_F(HttpHostile, SlowlorisIsClosedAtTheHeaderTimeoutWhileOthersAreServed) {
  start_with(
      {{"maxConnections", 64}, {"maxConnectionsPerClient", 16}, {"headerTimeoutMs", 1000}, {"idleTimeoutMs", 1000}});
  // Given 8 connections from one address that trickle a header one byte at a time,
  std::vector<std::unique_ptr<raw_conn>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<raw_conn>(proc.port(), hostile_address));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  }
  // then healthy clients are answered meanwhile,
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/healthz").status, 200);
  // and every slow connection is closed by the server although it keeps sending.
  std::vector<bool> closed(slow.size(), false);
  for (int round = 0; round < 40 && std::count(closed.begin(), closed.end(), false) > 0; ++round) {
    for (std::size_t i = 0; i < slow.size(); ++i) {
      if (closed[i]) continue;
      pollfd p{slow[i]->fd(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0)
        closed[i] = slow[i]->closed_by_server();
      else
        slow[i]->send("x");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (std::size_t i = 0; i < slow.size(); ++i) EXPECT_TRUE(closed[i]) << "slow connection " << i << " still open";
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(HttpHostile, ConnectionsOverThePerClientLimitGet503WhileOthersAreServed) {
  start_with({{"maxConnections", 64}, {"maxConnectionsPerClient", 16}, {"headerTimeoutMs", 60000}});
  // Given 16 idle connections from one address (its whole allowance),
  std::vector<std::unique_ptr<raw_conn>> held;
  for (int i = 0; i < 16; ++i) {
    held.push_back(std::make_unique<raw_conn>(proc.port(), hostile_address));
    ASSERT_TRUE(held.back()->connected());
  }
  // when it opens more, each extra one is answered 503 and closed,
  for (int i = 0; i < 4; ++i) {
    raw_conn extra{proc.port(), hostile_address};
    ASSERT_TRUE(extra.connected());
    extra.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto r = extra.read_reply();
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.headers["retry-after"], "1");
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_EQ(error_of(r)["field"], "maxConnectionsPerClient");
    EXPECT_TRUE(extra.closed_by_server());
  }
  // while other clients are still answered, and the metrics show it.
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(metric("provisiond_http_connections_refused_total{reason=\"max_connections_per_client\"}"), 4);
  EXPECT_GE(metric("provisiond_http_connections"), 16);
  // Once those connections close, the address is admitted again.
  held.clear();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    raw_conn again{proc.port(), hostile_address};
    again.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    status = again.read_reply().status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpHostile, InvalidUtf8InAHeaderValueIs400NamingTheHeaderWithoutWaitingForTheBody) {
  start_with({{"maxConnections", 64}});
  // Given a POST whose header carries 0xFF in Idempotency-Key and whose body never comes,
  auto body_text = vps_body("acme", "ord-ff");
  raw_conn c{proc.port(), "127.0.0.1"};
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.send("POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Idempotency-Key: key-\xff\r\nContent-Length: " +
             std::to_string(body_text.size()) + "\r\n\r\n"));
  // then other clients are answered meanwhile,
  EXPECT_EQ(get("/healthz").status, 200);
  // and it gets 400 naming the header at once (the read gives up after 10 s; a
  // server waiting for the body shows as status 0), and the connection is closed.
  auto r = c.read_reply();
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(error_of(r)["code"], "invalid_argument");
  EXPECT_EQ(error_of(r)["field"], "Idempotency-Key");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_server());
  // The same header on a complete request is refused the same way; a clean one is taken.
  auto full = post("/v1/requests", body_text, {{"Idempotency-Key", "key-\xff"}});
  EXPECT_EQ(full.status, 400);
  EXPECT_EQ(error_of(full)["field"], "Idempotency-Key");
  EXPECT_EQ(post("/v1/requests", body_text, {{"Idempotency-Key", "key-ok"}}).status, 202);
}
