// Authentication and tenant isolation against the real binary: the
// bootstrap admin key, API keys (shown once, scoped, revocable), OIDC tokens
// from a test identity provider (RS256/ES256, JWKS rotation on disk,
// forgeries refused), every route of the route table × credentials that
// must not get through, 1,000 of tenant A's ids tried by tenant B, and the
// audit lines and counters of denied calls and admin changes.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "gateway/routes.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/jwt_issuer.hpp"
#include "tests/support/sse_client.hpp"

namespace provisiond::testing {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* issuer = "https://idp.test";
constexpr const char* audience = "provisiond";

struct Auth : server_fixture {
  signing_key rsa{signing_key::rsa, "rsa-1"};
  signing_key ec{signing_key::ec, "ec-1"};

  void SetUp() override {
    std::ofstream{dir / "jwks.json"} << jwks_of({&rsa, &ec});
    write_config({{"auth",
                   {{"jwt",
                     {{"issuer", issuer},
                      {"audience", audience},
                      {"jwksFile", dir / "jwks.json"},
                      {"clockSkewSeconds", 30},
                      {"roleMap", {{"platform-operator", "admin"}}}}}}}});
    start_server();
  }

  static json claims(const std::string& role, const std::string& tenant = "", std::int64_t exp_in = 600) {
    json c{{"iss", issuer}, {"aud", audience}, {"sub", "user-" + role}, {"exp", now_s() + exp_in},
           {"iat", now_s()}, {"roles", json::array({role})}};
    if (!tenant.empty()) c["tenant_id"] = tenant;
    return c;
  }
  std::string token_for(const std::string& role, const std::string& tenant = "") {
    return "Bearer " + rsa.sign(claims(role, tenant));
  }
  http_reply as(const std::string& authorization, const std::string& method, const std::string& target,
                const std::string& body = "") {
    return http_call(proc.port(), method, target, body, {{"Authorization", authorization}});
  }
  // An API key issued by the bootstrap admin: "Bearer pvd_...".
  std::string issue_key(const json& spec, std::string* id = nullptr) {
    auto r = http_call(proc.port(), "POST", "/v1/api-keys", spec.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = body(r);
    if (id) *id = j.value("id", "");
    return "Bearer " + j.value("key", "");
  }
  std::string submit(const std::string& tenant, const std::string& order) {
    auto r = post("/v1/requests", vps_body(tenant, order));
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }
  std::string log_text() {
    std::string all;
    for (int i = 1; i <= starts; ++i) all += slurp(dir / ("provisiond-" + std::to_string(i) + ".log"));
    return all;
  }
};

TEST_F(Auth, TheBootstrapAdminKeyIsMadeOnceIn0600AndProbesNeedNothing) {
  struct stat st{};
  ASSERT_EQ(::stat((dir / "data/admin-api-key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string key = slurp(dir / "data/admin-api-key");
  key.erase(key.find_last_not_of("\n") + 1);
  ASSERT_TRUE(key.starts_with("pvd_")) << key;
  // Printed once, on the first start only.
  auto first = slurp(dir / "provisiond-1.log");
  EXPECT_NE(first.find(key), std::string::npos);
  EXPECT_EQ(first.find(key), first.rfind(key));
  proc.terminate();
  start_server();
  EXPECT_EQ(slurp(dir / "provisiond-2.log").find(key), std::string::npos);

  for (const char* open_route : {"/healthz", "/readyz", "/openapi.json", "/console/"})
    EXPECT_EQ(as("", "GET", open_route).status, 200) << open_route;
  // Bad credentials do not break a probe either.
  EXPECT_EQ(as("Bearer nonsense", "GET", "/healthz").status, 200);
  auto anonymous = as("", "GET", "/v1/requests");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.headers["www-authenticate"].find("Bearer"), std::string::npos);
  EXPECT_EQ(body(anonymous)["error"]["code"], "unauthenticated");
  EXPECT_EQ(as("", "GET", "/metrics").status, 401);
  EXPECT_EQ(as("Bearer " + key, "GET", "/v1/requests").status, 200);
  EXPECT_EQ(as("Bearer " + key, "GET", "/metrics").status, 200);
  auto me = body(as("Bearer " + key, "GET", "/v1/whoami"));
  EXPECT_EQ(me["role"], "admin");
  EXPECT_EQ(me["subject"], "key:bootstrap");
}

TEST_F(Auth, ApiKeysAreShownOnceScopedToATenantReadOrWriteAndRevocable) {
  std::string id;
  auto acme = issue_key({{"name", "acme ci"}, {"role", "tenant"}, {"tenantId", "acme"}}, &id);
  auto secret = acme.substr(7);
  // Listed and fetched without the secret.
  auto listed = http_call(proc.port(), "GET", "/v1/api-keys");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(secret.substr(20)), std::string::npos);
  auto one = body(http_call(proc.port(), "GET", "/v1/api-keys/" + id));
  EXPECT_EQ(one["role"], "tenant");
  EXPECT_EQ(one["tenantId"], "acme");
  EXPECT_FALSE(one.contains("key"));
  EXPECT_TRUE(one["lastUsedAt"].is_null());

  // A tenant key orders for its own tenant only.
  auto ok = as(acme, "POST", "/v1/requests", vps_body("acme", "o-1"));
  EXPECT_EQ(ok.status, 202) << ok.body;
  auto other = as(acme, "POST", "/v1/requests", vps_body("globex", "o-2"));
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(body(other)["error"]["field"], "tenantId");
  EXPECT_FALSE(body(http_call(proc.port(), "GET", "/v1/api-keys/" + id))["lastUsedAt"].is_null());
  // ... and may not administer.
  EXPECT_EQ(as(acme, "GET", "/v1/clusters").status, 403);
  EXPECT_EQ(as(acme, "POST", "/v1/api-keys", R"({"name":"x","role":"admin"})").status, 403);

  // A read key reads.
  auto reader = issue_key({{"name", "acme dashboard"}, {"role", "tenant"}, {"tenantId", "acme"}, {"access", "read"}});
  EXPECT_EQ(as(reader, "GET", "/v1/requests").status, 200);
  EXPECT_EQ(as(reader, "POST", "/v1/requests", vps_body("acme", "o-3")).status, 403);
  auto ro = issue_key({{"name", "acme viewer"}, {"role", "tenant-readonly"}, {"tenantId", "acme"}});
  EXPECT_EQ(as(ro, "POST", "/v1/requests", vps_body("acme", "o-4")).status, 403);
  // The saga orders for anyone but administers nothing.
  auto saga = issue_key({{"name", "order saga"}, {"role", "saga"}});
  EXPECT_EQ(as(saga, "POST", "/v1/requests", vps_body("globex", "o-5")).status, 202);
  EXPECT_EQ(as(saga, "PUT", "/v1/tenants/globex/quota", R"({"maxInstances":3})").status, 403);
  // Bad specs name the field.
  auto bad = http_call(proc.port(), "POST", "/v1/api-keys", R"({"name":"x","role":"tenant"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["field"], "tenantId");
  EXPECT_EQ(body(http_call(proc.port(), "POST", "/v1/api-keys", R"({"name":"x","role":"root"})"))["error"]["field"], "role");

  // Revoked: refused from then on, also after a restart.
  EXPECT_EQ(http_call(proc.port(), "DELETE", "/v1/api-keys/" + id).status, 200);
  EXPECT_EQ(as(acme, "GET", "/v1/requests").status, 401);
  proc.terminate();
  start_server();
  EXPECT_EQ(as(acme, "GET", "/v1/requests").status, 401);
  EXPECT_EQ(as(reader, "GET", "/v1/requests").status, 200);
  // The secret is nowhere but in the 201 that showed it.
  EXPECT_EQ(log_text().find(secret), std::string::npos);
}

TEST_F(Auth, TokensOfTheIdentityProviderAreCheckedAndForgeriesRefused) {
  auto acme_rsa = "Bearer " + rsa.sign(claims("tenant", "acme"));
  auto acme_ec = "Bearer " + ec.sign(claims("tenant", "acme"));
  EXPECT_EQ(as(acme_rsa, "GET", "/v1/requests").status, 200);
  EXPECT_EQ(as(acme_ec, "GET", "/v1/requests").status, 200);
  auto me = body(as(acme_ec, "GET", "/v1/whoami"));
  EXPECT_EQ(me["role"], "tenant");
  EXPECT_EQ(me["tenantId"], "acme");
  // The role map: the IdP's "platform-operator" is an admin.
  EXPECT_EQ(as("Bearer " + rsa.sign(claims("platform-operator")), "GET", "/v1/clusters").status, 200);
  EXPECT_EQ(as(acme_rsa, "GET", "/v1/clusters").status, 403);

  auto refused = [&](const std::string& token, const std::string& why) {
    auto r = as("Bearer " + token, "GET", "/v1/requests");
    EXPECT_EQ(r.status, 401) << why << ": " << r.body;
    EXPECT_EQ(body(r)["error"]["code"], "unauthenticated") << why;
  };
  refused(rsa.sign(claims("tenant", "acme", -120)), "expired beyond the skew");
  auto c = claims("tenant", "acme");
  c["aud"] = "someone-else";
  refused(rsa.sign(c), "wrong audience");
  c = claims("tenant", "acme");
  c["iss"] = "https://evil.test";
  refused(rsa.sign(c), "wrong issuer");
  c = claims("tenant", "acme");
  c["nbf"] = now_s() + 3600;
  refused(rsa.sign(c), "not valid yet");
  c = claims("tenant", "acme");
  c.erase("exp");
  refused(rsa.sign(c), "no exp");
  refused("not-a-token", "malformed");
  refused(unsigned_token(claims("admin"), "rsa-1"), "alg none");
  refused(hs256_token(claims("admin"), "rsa-1", rsa.public_pem()), "HS256 keyed with the RSA public key");
  refused(rsa.sign(claims("admin"), "ec-1"), "RS256 with the EC key's kid");
  auto tampered = rsa.sign(claims("tenant", "acme"));
  auto dot = tampered.find('.');
  tampered = tampered.substr(0, dot + 1) + b64url(claims("admin").dump()) + tampered.substr(tampered.rfind('.'));
  refused(tampered, "claims changed after signing");
  signing_key stranger{signing_key::rsa, "rsa-1"};
  refused(stranger.sign(claims("admin")), "signed by another key with the same kid");
  // Within the skew an expired token still passes (clocks differ a little).
  EXPECT_EQ(as("Bearer " + rsa.sign(claims("tenant", "acme", -10)), "GET", "/v1/requests").status, 200);
  // A tenant role without the tenant claim grants nothing.
  EXPECT_EQ(as("Bearer " + rsa.sign(claims("tenant")), "GET", "/v1/requests").status, 401);
}

TEST_F(Auth, ANewSigningKeyIsAcceptedOnceTheJwksHasIt) {
  signing_key next{signing_key::ec, "ec-2"};
  auto token = "Bearer " + next.sign(claims("tenant", "acme"));
  EXPECT_EQ(as(token, "GET", "/v1/requests").status, 401);
  // The IdP rotates: the new key joins, the old RSA key leaves.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new mtime
  std::ofstream{dir / "jwks.tmp"} << jwks_of({&ec, &next});
  std::filesystem::rename(dir / "jwks.tmp", dir / "jwks.json");
  EXPECT_EQ(as(token, "GET", "/v1/requests").status, 200);
  EXPECT_EQ(as("Bearer " + rsa.sign(claims("tenant", "acme")), "GET", "/v1/requests").status, 401);
}

// The path of `r` with its parameters filled in for tenant A's objects.
std::string target_of(const gateway::route& r, const std::string& request, const std::string& webhook) {
  std::string t(r.pattern);
  auto put = [&](const std::string& name, const std::string& v) {
    if (auto i = t.find(name); i != std::string::npos) t.replace(i, name.size(), v);
  };
  if (t.starts_with("/v1/requests/{id}")) put("{id}", request);
  if (t.starts_with("/v1/tenants/{id}")) put("{id}", "acme");
  put("{webhookId}", webhook);
  put("{deliveryId}", "msg_0000");
  put("{id}", "anything");
  return t;
}

TEST_F(Auth, EveryRouteRefusesWhatMustNotGetThrough) {
  auto a_request = submit("acme", "matrix-1");
  auto hook = body(post("/v1/tenants/acme/webhooks", R"({"url":"https://hooks.acme.test/x","events":["*"]})"));
  std::string a_webhook = hook.value("id", "wh_none");
  std::string revoked_id;
  auto revoked = issue_key({{"name", "old"}, {"role", "admin"}}, &revoked_id);
  ASSERT_EQ(http_call(proc.port(), "DELETE", "/v1/api-keys/" + revoked_id).status, 200);
  auto a_reader = issue_key({{"name", "a read"}, {"role", "tenant"}, {"tenantId", "acme"}, {"access", "read"}});
  auto a_tenant = token_for("tenant", "acme");
  auto b_tenant = token_for("tenant", "globex");
  auto expired = "Bearer " + rsa.sign(claims("admin", "", -3600));
  auto c = claims("admin");
  c["aud"] = "another-service";
  auto wrong_aud = "Bearer " + rsa.sign(c);

  int checked = 0;
  for (const auto& r : gateway::route_table()) {
    auto target = target_of(r, a_request, a_webhook);
    std::string m(r.method);
    std::string what = m + " " + target + " (" + std::string(gateway::to_string(r.needs)) + ")";
    std::string payload = m == "GET" || m == "DELETE" ? "" : "{}";
    bool open = r.needs == gateway::access::anyone;
    bool admin = r.needs == gateway::access::admin_read || r.needs == gateway::access::admin_write ||
                 r.needs == gateway::access::metrics || r.needs == gateway::access::saga_write;
    bool write = r.needs == gateway::access::tenant_write || r.needs == gateway::access::admin_write ||
                 r.needs == gateway::access::saga_write;
    bool owned = target.find("/v1/requests/" + a_request) == 0 || target.find("/v1/tenants/acme") == 0;
    if (open) {
      EXPECT_NE(as("", m, target).status, 401) << what;
      continue;
    }
    for (auto& [cred, name] : std::vector<std::pair<std::string, std::string>>{
             {"", "no credentials"}, {"Bearer x.y.z", "malformed token"}, {"Basic YTpi", "not a bearer"},
             {expired, "expired token"}, {wrong_aud, "wrong audience"}, {revoked, "revoked key"}})
      EXPECT_EQ(as(cred, m, target, payload).status, 401) << what << " with " << name;
    if (admin) EXPECT_EQ(as(a_tenant, m, target, payload).status, 403) << what << " with a tenant token";
    if (write) EXPECT_EQ(as(a_reader, m, target, payload).status, 403) << what << " with a read key";
    // Another tenant: a 404 for A's objects, a 403 on admin routes; never A's bytes.
    auto b = as(b_tenant, m, target, payload);
    if (admin) EXPECT_EQ(b.status, 403) << what << " with another tenant's token";
    else if (owned) EXPECT_EQ(b.status, 404) << what << " with another tenant's token";
    EXPECT_EQ(b.body.find("acme"), std::string::npos) << what << ": " << b.body;
    EXPECT_EQ(b.body.find("matrix-1"), std::string::npos) << what << ": " << b.body;
    EXPECT_EQ(b.body.find(a_request), std::string::npos) << what << ": " << b.body;
    ++checked;
  }
  EXPECT_GT(checked, 40);
  // The table declares every route: nothing answers that is not in it.
  EXPECT_EQ(as(a_tenant, "GET", "/v1/not-a-route").status, 404);
}

TEST_F(Auth, ATenantSeesZeroBytesOfAnotherTenantsThousandRequests) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(submit("acme", "bulk-" + std::to_string(i)));
  ASSERT_EQ(ids.size(), 1000u);
  auto b = token_for("tenant", "globex");
  auto unknown = as(b, "GET", "/v1/requests/req-doesnotexist");
  ASSERT_EQ(unknown.status, 404);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto r = as(b, "GET", "/v1/requests/" + ids[i]);
    ASSERT_EQ(r.status, 404) << ids[i] << ": " << r.body;
    // Exactly what a request that does not exist gets, byte for byte.
    ASSERT_EQ(r.body, unknown.body);
    ASSERT_EQ(r.body.find(ids[i]), std::string::npos);
    if (i % 10 == 0)
      for (auto suffix : {"/credentials", "/metrics", "/events"}) {
        auto s = as(b, "GET", "/v1/requests/" + ids[i] + suffix);
        EXPECT_TRUE(s.status == 404 || s.status == 403) << suffix << " " << s.status;
        EXPECT_EQ(s.body.find("acme"), std::string::npos) << s.body;
      }
    if (i % 50 == 0) {
      auto s = as(b, "POST", "/v1/requests/" + ids[i] + "/deprovision");
      EXPECT_EQ(s.status, 404) << s.body;
    }
  }
  // Lists and the live stream are the caller's tenant's, whatever the query says.
  auto list = as(b, "GET", "/v1/requests?tenantId=acme&limit=500");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(body(list)["items"].empty()) << list.body.substr(0, 300);
  EXPECT_EQ(as(b, "GET", "/v1/tenants/acme/usage").status, 404);
  EXPECT_EQ(as(b, "GET", "/v1/tenants/acme/webhooks").status, 404);
  sse_client stream;
  ASSERT_EQ(stream.open(proc.port(), "/v1/events/stream?lastEventId=0&tenantId=acme", {{"Authorization", b}}), 200);
  auto got = stream.rest(std::chrono::milliseconds(1500));
  EXPECT_EQ(got.find("acme"), std::string::npos);
  EXPECT_EQ(got.find("bulk-"), std::string::npos);
  // ... while A's own key sees its own.
  auto a = token_for("tenant", "acme");
  EXPECT_EQ(as(a, "GET", "/v1/requests/" + ids[0]).status, 200);
  EXPECT_EQ(body(as(a, "GET", "/v1/requests?limit=500"))["items"].size(), 500u);
}

TEST_F(Auth, DeniedCallsAndAdminChangesAreCountedAndLoggedAsJsonWithoutSecrets) {
  auto token = rsa.sign(claims("tenant", "acme"));
  EXPECT_EQ(as("Bearer " + token, "GET", "/v1/clusters").status, 403);
  EXPECT_EQ(as("Bearer pvd_AAAAAAAAAAAA_notakeyatall", "GET", "/v1/requests").status, 401);
  EXPECT_EQ(as("", "GET", "/v1/requests").status, 401);
  auto key = issue_key({{"name", "audited"}, {"role", "saga"}});
  EXPECT_EQ(http_call(proc.port(), "PUT", "/v1/tenants/acme/quota", R"({"maxInstances":7})").status, 200);

  auto metrics = http_call(proc.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("provisiond_auth_denied_total{reason=\"role\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("provisiond_auth_denied_total{reason=\"unknown_key\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("provisiond_auth_denied_total{reason=\"no_credentials\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("provisiond_admin_changes_total 2"), std::string::npos);

  std::istringstream lines{log_text()};
  int denied = 0, changes = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"audit\"") == std::string::npos) continue;
    auto j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["audit"] == "access_denied") {
      ++denied;
      EXPECT_TRUE(j.contains("reason") && j.contains("path") && j.contains("status")) << line;
    }
    if (j["audit"] == "admin_change") {
      ++changes;
      EXPECT_EQ(j["principal"], "key:bootstrap") << line;
    }
  }
  EXPECT_EQ(denied, 3);
  EXPECT_EQ(changes, 2);
  auto all = log_text();
  EXPECT_EQ(all.find(token), std::string::npos);
  EXPECT_EQ(all.find(key.substr(7)), std::string::npos);
  EXPECT_EQ(all.find("notakeyatall"), std::string::npos);
}

}  // namespace
}  // namespace provisiond::testing
