#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

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
  // A CR/LF or a space would end the request line: a header injected.
  EXPECT_FALSE(parse_url("https://h/sdk\r\nX-Injected: 1"));
  EXPECT_FALSE(parse_url("https://h/a b"));
  EXPECT_FALSE(parse_url(std::string("https://h/\0x", 11)));
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

// A server that answers each connection once, keep-alive by HTTP/1.1's
// default, and then closes it — as a server does with connections idle too
// long. Every pooled connection is stale by the next request.
TEST(HttpClient, AfterAnIdlePeriodEveryPooledConnectionIsStaleAndTheRequestStillGoesThrough) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::atomic<bool> stop{false};
  std::vector<std::thread> served;
  std::mutex served_mutex;
  std::thread acceptor([&] {
    while (!stop) {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock{served_mutex};
      served.emplace_back([fd] {
        std::string in;
        char buf[4096];
        while (in.find("\r\n\r\n") == std::string::npos) {
          auto n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          in.append(buf, static_cast<std::size_t>(n));
        }
        std::this_thread::sleep_for(100ms);  // so that the three requests overlap
        std::string out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(50ms);
        ::close(fd);  // no "Connection: close": the client keeps it
      });
    }
  });
  auto url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  client c;
  std::vector<std::thread> three;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i)
    three.emplace_back([&] {
      if (auto r = c.send({"GET", url, {}, ""}); r && r->status == 200) ++ok;
    });
  for (auto& t : three) t.join();
  ASSERT_EQ(ok.load(), 3);
  std::this_thread::sleep_for(300ms);  // the server has closed all three
  auto again = c.send({"GET", url, {}, ""});
  EXPECT_TRUE(again.has_value()) << again.error().message;
  if (again) {
    EXPECT_EQ(again->body, "ok");
  }
  stop = true;
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  acceptor.join();
  for (auto& t : served) t.join();
}
