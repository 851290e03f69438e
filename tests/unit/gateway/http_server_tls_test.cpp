// TLS and mTLS on http_server, started directly with a handler that echoes
// the verified client certificate's subject. Certificates are made at test
// time with the openssl CLI; the client is OpenSSL's own, written here.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway/http_server.hpp"
#include "tests/hostile/raw_conn.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_certs.hpp"

using namespace provisiond;
using namespace provisiond::gateway;
using provisiond::testing::http_call;
using provisiond::testing::raw_conn;
using provisiond::testing::temp_dir;

namespace {

// One TLS connection from OpenSSL's client: verifies the server against
// ca.pem, presents `cert` (a name in the cert dir, "" for none).
class tls_client {
 public:
  tls_client(std::uint16_t port, const temp_dir& d, const std::string& cert) : tcp_(port, "127.0.0.1", 5) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, (d / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!cert.empty()) {
      SSL_CTX_use_certificate_file(ctx_, (d / (cert + ".pem")).c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx_, (d / "client.key").c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set1_host(ssl_, "localhost");
    SSL_set_fd(ssl_, tcp_.fd());
    handshake_ok_ = tcp_.connected() && SSL_connect(ssl_) == 1;
  }
  ~tls_client() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;

  /// The client's side of the handshake finished (with TLS 1.3 a server that
  /// refuses the client's certificate says so only afterwards).
  bool handshake_ok() const { return handshake_ok_; }

  bool send(const std::string& bytes) {
    return handshake_ok_ &&
           SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size());
  }

  /// Everything until the server closes (or the read times out).
  std::string read_all() {
    std::string out;
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  /// A GET with Connection: close; its status (0: none) and body.
  std::pair<int, std::string> get(const std::string& target) {
    if (!send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) return {0, ""};
    auto raw = read_all();
    auto end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return {0, ""};
    return {std::stoi(raw.substr(9, 3)), raw.substr(end + 4)};
  }

 private:
  raw_conn tcp_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
};

class three_pieces : public body_stream {
 public:
  std::optional<std::string> next() override {
    if (n_ == 3) return std::nullopt;
    return "data: " + std::to_string(++n_) + "\n\n";
  }
  void reader_is_slow() override {}

 private:
  int n_ = 0;
};

struct HttpServerTls : ::testing::Test {
  temp_dir certs;
  std::atomic<int> calls{0};
  std::unique_ptr<http_server> server;

  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // the client writes to sockets the server may have closed
    ASSERT_TRUE(make_test_certs(certs)) << "openssl could not make the test certificates";
  }

  tls_settings tls(bool client_ca, bool require) {
    tls_settings t;
    t.cert_file = certs / "server.pem";
    t.key_file = certs / "server.key";
    if (client_ca) t.client_ca_file = certs / "ca.pem";
    t.require_client_cert = require;
    return t;
  }

  http_handler echo() {
    return [this](const http_request& req) {
      ++calls;
      http_response r;
      if (req.path == "/stream") {
        r.content_type = "text/event-stream";
        r.stream = std::make_shared<three_pieces>();
        r.poll_ms = 10;
        return r;
      }
      r.body = nlohmann::json{{"subject", req.peer_subject}, {"path", req.path}}.dump();
      return r;
    };
  }

  void start(const tls_settings& t, http_limits limits = {}) {
    auto s = http_server::start("127.0.0.1", 0, 2, echo(), limits, t);
    ASSERT_TRUE(s.has_value()) << s.error().field << ": " << s.error().message;
    server = std::move(*s);
  }

  std::pair<int, std::string> get_as(const std::string& cert, const std::string& target = "/whoami") {
    tls_client c{server->port(), certs, cert};
    return c.get(target);
  }

  static std::string subject_of(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() ? j.value("subject", "?") : "?";
  }
};

}  // namespace

TEST_F(HttpServerTls, AVerifiedClientCertificatesSubjectReachesTheHandlerInRfc2253Form) {
  start(tls(true, false));
  auto [status, body] = get_as("client");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(subject_of(body), "CN=order-saga,O=platform");
  // Without a certificate (not required) the request is served without a subject.
  auto [anon_status, anon_body] = get_as("");
  ASSERT_EQ(anon_status, 200);
  EXPECT_EQ(subject_of(anon_body), "");
}

TEST_F(HttpServerTls, ACertificateFromAnotherCaIsRefusedInTheHandshake) {
  start(tls(true, false));
  int before = calls;
  auto [status, body] = get_as("other-client");
  EXPECT_EQ(status, 0) << body;
  EXPECT_EQ(calls, before) << "the handler never saw it";
  EXPECT_EQ(get_as("client").first, 200) << "the server goes on";
}

TEST_F(HttpServerTls, RequireClientCertRefusesAConnectionWithoutOne) {
  start(tls(true, true));
  auto [status, body] = get_as("");
  EXPECT_EQ(status, 0) << body;
  EXPECT_EQ(calls, 0);
  auto [ok_status, ok_body] = get_as("client");
  ASSERT_EQ(ok_status, 200);
  EXPECT_EQ(subject_of(ok_body), "CN=order-saga,O=platform");
  EXPECT_EQ(get_as("other-client").first, 0);
}

TEST_F(HttpServerTls, WithoutAClientCaNoCertificateIsAskedForAndNoSubjectGiven) {
  start(tls(false, false));
  auto [status, body] = get_as("client");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(subject_of(body), "");
}

TEST_F(HttpServerTls, PlainHttpOnTheTlsPortIsAPlain400AndTheServerGoesOn) {
  start(tls(true, false));
  auto r = http_call(server->port(), "GET", "/whoami");
  ASSERT_EQ(r.status, 400) << r.body;
  auto err = nlohmann::json::parse(r.body)["error"];
  EXPECT_EQ(err["field"], "scheme");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(get_as("client").first, 200);
}

TEST_F(HttpServerTls, AHandshakeThatNeverFinishesIsClosedAtTheHeaderTimeout) {
  http_limits limits;
  limits.header_timeout_ms = 500;
  start(tls(true, false), limits);
  // One sends nothing at all, one the first bytes of a ClientHello and no more.
  raw_conn silent{server->port(), "127.0.0.1", 5};
  raw_conn partial{server->port(), "127.0.0.1", 5};
  ASSERT_TRUE(partial.send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  // Others are served meanwhile,
  EXPECT_EQ(get_as("client").first, 200);
  // and both are closed by the server (the reads give up after 5 s).
  EXPECT_TRUE(silent.closed_by_server());
  EXPECT_TRUE(partial.closed_by_server());
}

TEST_F(HttpServerTls, TheLiveStreamIsWrittenOverTls) {
  start(tls(true, false));
  tls_client c{server->port(), certs, "client"};
  ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto raw = c.read_all();
  ASSERT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(raw.find("text/event-stream"), std::string::npos);
  EXPECT_NE(raw.find("data: 1\n\ndata: 2\n\ndata: 3\n\n"), std::string::npos) << raw;
}

TEST_F(HttpServerTls, PipeliningAndHeadLimitsApplyOverTls) {
  start(tls(true, false));
  {
    tls_client c{server->port(), certs, "client"};
    ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    auto raw = c.read_all();
    auto a = raw.find("\"path\":\"/a\""), b = raw.find("\"path\":\"/b\"");
    ASSERT_NE(a, std::string::npos) << raw;
    ASSERT_NE(b, std::string::npos) << raw;
    EXPECT_LT(a, b) << "answered in order";
  }
  {
    tls_client c{server->port(), certs, "client"};
    std::string many;
    for (int i = 0; i < 500; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n" + many + "\r\n"));
    EXPECT_EQ(c.read_all().rfind("HTTP/1.1 431", 0), 0u);
  }
}

TEST_F(HttpServerTls, UnusableFilesAreErrorsNamingTheSetting) {
  auto t = tls(true, false);
  t.cert_file = certs / "missing.pem";
  auto s = http_server::start("127.0.0.1", 0, 1, echo(), {}, t);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "http.tls.certFile");

  t = tls(true, false);
  t.key_file = certs / "client.key";  // not the certificate's key
  s = http_server::start("127.0.0.1", 0, 1, echo(), {}, t);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "http.tls.keyFile");

  t = tls(true, false);
  t.client_ca_file = certs / "missing-ca.pem";
  s = http_server::start("127.0.0.1", 0, 1, echo(), {}, t);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "http.tls.clientCaFile");
}
