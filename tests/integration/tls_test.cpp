// The real binary with http.tls set: served over TLS to Python's ssl client
// (an independent TLS stack's client), a client certificate required and
// checked against clientCaFile, plain HTTP on the TLS port answered and
// survived, an unusable certificate file refused at start naming the
// setting. Certificates are made at test time with the openssl CLI.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_certs.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

// A request through Python's http.client over ssl, verifying the server
// against ca.pem, with an Authorization header when given; prints the
// status and the body, or ERROR and the exception.
constexpr const char* python_client = R"(import http.client, ssl, sys
port, ca, cert, key, method, path, body, authorization = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=ca)
if cert:
    ctx.load_cert_chain(cert, key)
try:
    c = http.client.HTTPSConnection('127.0.0.1', int(port), context=ctx, timeout=10)
    headers = {'Content-Type': 'application/json'} if body else {}
    if authorization:
        headers['Authorization'] = authorization
    c.request(method, path, body=body or None, headers=headers)
    r = c.getresponse()
    print(r.status)
    print(r.read().decode())
except Exception as e:
    print('ERROR', type(e).__name__, e)
)";

struct reply {
  int status = 0;  // 0: the connection failed (the text says how)
  std::string text;
};

struct Tls : ::testing::Test {
  temp_dir dir;
  pid_t pid = -1;
  std::uint16_t port = 0;

  void SetUp() override {
    ASSERT_TRUE(make_test_certs(dir)) << "openssl could not make the test certificates";
    std::ofstream{dir / "client.py"} << python_client;
  }
  void TearDown() override { signal_and_reap(pid, SIGTERM); }

  json tls_config(bool client_ca, bool require) {
    json t{{"certFile", dir / "server.pem"}, {"keyFile", dir / "server.key"}};
    if (client_ca) t["clientCaFile"] = dir / "ca.pem";
    if (require) t["requireClientCert"] = true;
    return t;
  }

  // Starts provisiond with `tls` as http.tls (and `auth` as auth); the port it prints for https://.
  bool start(const json& tls, const std::string& log_name = "provisiond.log", const json& auth = nullptr) {
    json cfg{{"http", {{"tls", tls}}}};
    if (!auth.is_null()) cfg["auth"] = auth;
    std::ofstream{dir / "config.json"} << cfg.dump();
    pid = spawn_provisiond({"--config", dir / "config.json", "--data-dir", dir / "data", "--listen", "127.0.0.1:0"},
                           dir / log_name, false);
    static const std::regex re{R"(listening on https://[^:]+:(\d+))"};
    for (int i = 0; i < 1500; ++i) {
      std::ifstream in{dir / log_name};
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, re)) {
          port = static_cast<std::uint16_t>(std::stoi(m[1]));
          return true;
        }
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  reply call(const std::string& cert, const std::string& method, const std::string& path,
             const std::string& body = "", std::optional<std::string> authorization = std::nullopt) {
    auto q = [](const std::string& s) { return "'" + s + "'"; };
    auto r = run_command("python3 " + q(dir / "client.py") + " " + std::to_string(port) + " " + q(dir / "ca.pem") +
                         " " + q(cert.empty() ? "" : dir / (cert + ".pem")) + " " + q(dir / "client.key") + " " +
                         method + " " + q(path) + " " + q(body) + " " +
                         q(authorization ? *authorization : admin_authorization()));
    reply out;
    out.text = r.out;
    if (r.out.rfind("ERROR", 0) != 0 && !r.out.empty() && std::isdigit(static_cast<unsigned char>(r.out[0])))
      out.status = std::stoi(r.out);
    return out;
  }

  // The bootstrap admin API key's header value ("" in a build without authentication).
  std::string admin_authorization() {
    std::ifstream in{dir / "data/admin-api-key"};
    std::string key;
    std::getline(in, key);
    return key.empty() ? "" : "Bearer " + key;
  }

  static json body_of(const reply& r) { return json::parse(r.text.substr(r.text.find('\n') + 1), nullptr, false); }
};

}  // namespace

TEST_F(Tls, ServesOverTlsWithARequiredClientCertificateAndRefusesOthers) {
  ASSERT_TRUE(start(tls_config(true, true))) << "provisiond did not start; see " << dir / "provisiond.log";
  // With a certificate from the configured CA: served, writes and reads.
  auto health = call("client", "GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.text;
  auto created = call("client", "POST", "/v1/requests",
                      R"({"tenantId":"tls-co","orderId":"o-tls","type":"vps","region":"eu-west-1",)"
                      R"("resources":{"cpu":1,"memoryGb":1,"storageGb":10}})");
  ASSERT_EQ(created.status, 202) << created.text;
  std::string id = body_of(created)["id"];
  auto read = call("client", "GET", "/v1/requests/" + id);
  ASSERT_EQ(read.status, 200) << read.text;
  EXPECT_EQ(body_of(read)["orderId"], "o-tls");
  // Without a certificate, or with one from another CA: the handshake fails.
  auto anonymous = call("", "GET", "/healthz");
  EXPECT_EQ(anonymous.status, 0) << anonymous.text;
  EXPECT_EQ(anonymous.text.rfind("ERROR", 0), 0u) << anonymous.text;
  auto foreign = call("other-client", "GET", "/healthz");
  EXPECT_EQ(foreign.status, 0) << foreign.text;
  // Plain HTTP on the TLS port: a plain 400 that says so, and the server goes on.
  auto plain = http_call(port, "GET", "/healthz");
  ASSERT_EQ(plain.status, 400) << plain.body;
  EXPECT_EQ(json::parse(plain.body)["error"]["field"], "scheme");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(http_call(port, "GET", "/v1/requests").status, 400);
  EXPECT_EQ(call("client", "GET", "/healthz").status, 200);
}

TEST_F(Tls, WithoutAClientCaAnyTlsClientIsServed) {
  ASSERT_TRUE(start(tls_config(false, false))) << "provisiond did not start; see " << dir / "provisiond.log";
  auto r = call("", "GET", "/readyz");
  EXPECT_EQ(r.status, 200) << r.text;
}

TEST_F(Tls, AnUnusableCertificateIsRefusedAtStartNamingTheSetting) {
  auto t = tls_config(true, false);
  t["certFile"] = dir / "missing.pem";
  EXPECT_FALSE(start(t, "bad.log"));
  std::ifstream in{dir / "bad.log"};
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("http.tls.certFile"), std::string::npos) << log;
}

TEST_F(Tls, AClientCertificateMappedToARoleIsThatCallerWithoutAKey) {
  // openssl's -subj /O=platform/CN=order-saga reads CN=order-saga,O=platform in RFC 2253.
  ASSERT_TRUE(start(tls_config(true, false), "provisiond.log",
                    json{{"clientCertificates", {{"CN=order-saga,O=platform", {{"role", "saga"}}}}}}))
      << "provisiond did not start; see " << dir / "provisiond.log";
  auto me = call("client", "GET", "/v1/whoami", "", "");
  ASSERT_EQ(me.status, 200) << me.text;
  EXPECT_EQ(body_of(me)["role"], "saga");
  EXPECT_EQ(body_of(me)["subject"], "cert:CN=order-saga,O=platform");
  // The saga orders for any tenant, and administers nothing.
  auto created = call("client", "POST", "/v1/requests",
                      R"({"tenantId":"cert-co","orderId":"o-cert","type":"vps","region":"eu-west-1",)"
                      R"("resources":{"cpu":1,"memoryGb":1,"storageGb":10}})",
                      "");
  EXPECT_EQ(created.status, 202) << created.text;
  EXPECT_EQ(call("client", "GET", "/v1/clusters", "", "").status, 403);
  // No certificate (allowed here: clientCaFile without requireClientCert) and no key: 401.
  EXPECT_EQ(call("", "GET", "/v1/requests", "", "").status, 401);
  // A certificate from another CA never reaches the mapping: the handshake refuses it.
  EXPECT_EQ(call("other-client", "GET", "/v1/whoami", "", "").status, 0);
}
