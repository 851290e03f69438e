#include <gtest/gtest.h>

#include "app/config.hpp"

using namespace provisiond;

TEST(Config, DefaultHasSimulationClustersInTwoRegions) {
  auto c = default_config();
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[0].region, "eu-west-1");
  EXPECT_EQ(c.clusters[1].region, "us-east-1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.journal_durability, durability::durable);
}

TEST(Config, ParsesEveryKnownField) {
  auto c = parse_config(R"({"dataDir":"/d","listen":"0.0.0.0:9","durability":"fast",
    "retry":{"baseDelayMs":10,"maxDelayMs":100,"maxRetries":2},
    "simulation":{"seed":7,"minDelayMs":1,"maxDelayMs":2,"releaseFailureRate":0.5,
                  "steps":{"configure":{"retryable":0.1,"permanent":0.2,"responseLost":0.3}}},
    "clusters":[{"id":"x","type":"simulation","region":"r"}]})",
                        default_config());
  ASSERT_TRUE(c.has_value()) << c.error().field << ": " << c.error().message;
  EXPECT_EQ(c->data_dir, "/d");
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9);
  EXPECT_EQ(c->journal_durability, durability::fast);
  EXPECT_EQ(c->retry.delay_for(1), 10);
  EXPECT_EQ(c->retry.delay_for(9), 100);
  EXPECT_EQ(c->simulation.seed, 7u);
  EXPECT_DOUBLE_EQ(c->simulation.steps[1].response_lost, 0.3);
  ASSERT_EQ(c->clusters.size(), 1u);
  EXPECT_EQ(c->clusters[0].name, "x");
}

TEST(Config, ErrorsNameTheField) {
  struct tc {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"durability":"sometimes"})", "durability"},
      {R"({"retry":{"maxRetries":-1}})", "retry.maxRetries"},
      {R"({"simulation":{"steps":{"verify":{"permanent":2}}}})", "simulation.steps.verify.permanent"},
      {R"({"simulation":{"steps":{"deploy":{}}}})", "simulation.steps.deploy"},
      {R"({"clusters":[{"id":"x","type":"simulation"}]})", "clusters[0].region"},
      {R"({"listen":"nohost"})", "listen"},
      {R"({"lisen":"127.0.0.1:1"})", "lisen"},
      {R"([1,2])", "$"},
      {R"({not json)", "$"},
  };
  for (auto& c : cases) {
    auto r = parse_config(c.json, default_config());
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error().field, c.field) << c.json << " → " << r.error().message;
  }
}

TEST(Config, WebhookSettingsAndTheirErrors) {
  auto c = parse_config(R"({"webhooks":{"allow":["10.20.0.0/16","hooks.internal"],"hosts":{"a.test":["127.0.0.1"]},
    "retryDelaysMs":[100,200],"deactivateAfter":3,"threads":4,"perEndpoint":1,"timeoutMs":2500,
    "rotationOverlapSeconds":60}})",
                        default_config());
  ASSERT_TRUE(c.has_value()) << c.error().field << ": " << c.error().message;
  EXPECT_EQ(c->webhooks.allow, (std::vector<std::string>{"10.20.0.0/16", "hooks.internal"}));
  EXPECT_EQ(c->webhooks.hosts.at("a.test"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(c->webhooks.retry_delays_ms, (std::vector<time_ms>{100, 200}));
  EXPECT_EQ(c->webhooks.deactivate_after, 3);
  EXPECT_EQ(c->webhooks.timeout_ms, 2500);
  EXPECT_EQ(c->webhooks.rotation_overlap_ms, 60'000);
  EXPECT_EQ(default_config().webhooks.retry_delays_ms, (std::vector<time_ms>{5'000, 30'000, 300'000}));
  struct tc {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"webhooks":{"retries":3}})", "webhooks.retries"},
      {R"({"webhooks":{"allow":"10.0.0.0/8"}})", "webhooks.allow"},
      {R"({"webhooks":{"allow":[""]}})", "webhooks.allow[0]"},
      {R"({"webhooks":{"hosts":{"a.test":"127.0.0.1"}}})", "webhooks.hosts.a.test"},
      {R"({"webhooks":{"retryDelaysMs":[5000,-1]}})", "webhooks.retryDelaysMs[1]"},
      {R"({"webhooks":{"timeoutMs":0}})", "webhooks.timeoutMs"},
  };
  for (auto& t : cases) {
    auto r = parse_config(t.json, default_config());
    ASSERT_FALSE(r.has_value()) << t.json;
    EXPECT_EQ(r.error().field, t.field) << t.json << ": " << r.error().message;
  }
}

TEST(Config, AuthSettingsAndTheirErrors) {
  auto c = parse_config(R"({"auth":{"adminKeyFile":"/k","bootstrapAdminKey":false,"publicMetrics":true,
    "jwt":{"issuer":"https://idp","audience":"provisiond","jwksUrl":"https://idp/jwks","clockSkewSeconds":5,
           "roleMap":{"ops":"admin"}},
    "clientCertificates":{"CN=saga":{"role":"saga"},"CN=acme":{"role":"tenant","tenantId":"acme"}}}})",
                        default_config());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->auth.admin_key_file, "/k");
  EXPECT_FALSE(c->auth.bootstrap_admin_key);
  EXPECT_TRUE(c->auth.public_metrics);
  ASSERT_TRUE(c->auth.jwt);
  EXPECT_EQ(c->auth.jwt->clock_skew_s, 5);
  EXPECT_EQ(c->auth.jwt->role_map.at("ops"), "admin");
  EXPECT_EQ(c->auth.client_certificates.at("CN=acme").tenant, "acme");
  EXPECT_EQ(c->auth.client_certificates.at("CN=saga").r, auth::role::saga);

  struct bad {
    const char* json;
    const char* field;
  };
  for (auto& b : std::vector<bad>{
           {R"({"auth":{"nope":1}})", "auth.nope"},
           {R"({"auth":{"jwt":{"audience":"a","jwksFile":"/f"}}})", "auth.jwt.issuer"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a"}}})", "auth.jwt"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksFile":"/f","jwksUrl":"https://x/"}}})", "auth.jwt"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksUrl":"http://idp.example/jwks"}}})", "auth.jwt.jwksUrl"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksUrl":"http://localhost.evil/jwks"}}})", "auth.jwt.jwksUrl"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksFile":"/f","clockSkewSeconds":3600}}})",
            "auth.jwt.clockSkewSeconds"},
           {R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksFile":"/f","roleMap":{"x":"root"}}}})",
            "auth.jwt.roleMap.x"},
           {R"({"auth":{"clientCertificates":{"CN=a":{"role":"tenant"}}}})", "auth.clientCertificates.CN=a.tenantId"},
           {R"({"auth":{"clientCertificates":{"CN=a":{"role":"admin","tenantId":"t"}}}})",
            "auth.clientCertificates.CN=a.tenantId"},
           {R"({"auth":{"clientCertificates":{"CN=a":{"role":"god"}}}})", "auth.clientCertificates.CN=a.role"},
       }) {
    auto r = parse_config(b.json, default_config());
    ASSERT_FALSE(r) << b.json;
    EXPECT_EQ(r.error().field, b.field) << b.json << ": " << r.error().message;
  }
  // A loopback JWKS over plain http is fine (a local IdP sidecar).
  EXPECT_TRUE(parse_config(R"({"auth":{"jwt":{"issuer":"i","audience":"a","jwksUrl":"http://127.0.0.1:9000/jwks"}}})",
                           default_config()));
}
