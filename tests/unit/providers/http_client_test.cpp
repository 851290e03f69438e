#include <gtest/gtest.h>

#include "providers/http/http_client.hpp"
#include "tests/support/local_https.hpp"

using namespace provisiond;
namespace pt = provisiond::testing;
using namespace provisiond::providers::http;
using namespace std::chrono_literals;

TEST(HttpClient, ParsesUrls) {
  auto u = parse_url("https://keystone.example:5000/v3/auth/tokens?nocatalog");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "keystone.example");
  EXPECT_EQ(u->port, "5000");
  EXPECT_EQ(u->target, "/v3/auth/tokens?nocatalog");
  EXPECT_EQ(parse_url("http://h")->port, "80");
  EXPECT_EQ(parse_url("http://h")->target, "/");
  EXPECT_EQ(parse_url("https://[::1]:6443/api")->host, "::1");
  EXPECT_EQ(parse_url("ftp://h").error().field, "url");
  EXPECT_EQ(parse_url("http://h:x/").error().field, "url");
}

TEST(HttpClient, TlsIsVerifiedAgainstTheConfiguredCa) {
  pt::temp_dir dir;
  ASSERT_TRUE(pt::make_test_ca(dir)) << "openssl CLI failed";
  pt::python_server server{dir, "https"};
  ASSERT_GT(server.port(), 0);
  auto url = "https://localhost:" + std::to_string(server.port()) + "/v3";

  // Without our CA the self-signed chain is rejected: permanent, field "tls".
  client untrusting{client_options{}};
  auto refused = untrusting.send({"GET", url, {}, ""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::permanent);
  EXPECT_EQ(refused.error().field, "tls") << refused.error().message;

  // With it: accepted, and SNI / host name checked (the certificate names localhost and 127.0.0.1).
  client_options with_ca;
  with_ca.ca_file = dir / "ca.pem";
  client trusting{with_ca};
  auto ok = trusting.send({"GET", url, {}, ""});
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.rfind("hello /v3", 0), 0u);
  auto by_ip = trusting.send({"GET", "https://127.0.0.1:" + std::to_string(server.port()) + "/ip", {}, ""});
  ASSERT_TRUE(by_ip.has_value()) << by_ip.error().message;

  // A name the certificate does not carry is refused even with the CA.
  pt::temp_dir other;
  ASSERT_TRUE(pt::make_test_ca(other));
  client_options wrong_ca;
  wrong_ca.ca_file = other / "ca.pem";
  EXPECT_EQ(client{wrong_ca}.send({"GET", url, {}, ""}).error().field, "tls");

  // Explicitly insecure (a dev cluster): accepted without verification.
  client_options insecure;
  insecure.verify_peer = false;
  EXPECT_TRUE(client{insecure}.send({"GET", url, {}, ""}).has_value());
}

TEST(HttpClient, ReusesConnectionsAndLimitsTimeAndSize) {
  pt::temp_dir dir;
  pt::python_server server{dir, "http"};
  ASSERT_GT(server.port(), 0);
  auto base = "http://127.0.0.1:" + std::to_string(server.port());
  client_options o;
  o.max_response_bytes = 64 * 1024;
  client c{o};
  auto a = c.send({"GET", base + "/a", {}, ""});
  auto b = c.send({"POST", base + "/b", {{"Content-Type", "application/json"}}, "{}"});
  ASSERT_TRUE(a && b);
  // The body ends with the client's source port: the same port means the same connection.
  EXPECT_EQ(a->body.substr(a->body.rfind(' ')), b->body.substr(b->body.rfind(' '))) << a->body << " / " << b->body;
  auto big = c.send({"GET", base + "/big", {}, ""});
  ASSERT_FALSE(big.has_value()) << big->status;
  EXPECT_EQ(big.error().code, errc::too_large);

  pt::python_server silent{dir, "silent"};
  ASSERT_GT(silent.port(), 0);
  client_options quick;
  quick.io_timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto hung = client{quick}.send({"GET", "http://127.0.0.1:" + std::to_string(silent.port()) + "/", {}, ""});
  ASSERT_FALSE(hung.has_value());
  EXPECT_EQ(hung.error().code, errc::retryable);
  EXPECT_EQ(hung.error().field, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);

  auto refused = client{quick}.send({"GET", "http://127.0.0.1:1/", {}, ""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "connect");
}
