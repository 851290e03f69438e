// The Keystone session judges its token's expiry by the injected clock.
#include <gtest/gtest.h>

#include "tests/unit/providers/openstack/fake_cloud.hpp"

using namespace provisiond;
namespace pt = provisiond::testing;

// Given a token valid for 10 minutes (the next one for 20), when steps run 7
// and then 8.5 minutes later on the clock, then the session keeps the token
// at first and makes a new one once less than 120 s remain.
TEST(OpenStackSession, ReauthenticatesWhenLessThan120sRemainOnTheClock) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  auto routes = pt::keystone_routes({clk->now() + 10 * 60'000, clk->now() + 20 * 60'000});
  routes["GET /compute/servers/srv-1"] = {pt::server_reply("srv-1", "ACTIVE")};
  pt::fake_rest_server cloud{dir, routes};
  ASSERT_GT(cloud.port(), 0);
  auto p = pt::openstack_for(pt::connection_for(cloud.url()), clk);

  ASSERT_TRUE(p->execute(pt::activate_call("srv-1")).has_value());
  EXPECT_EQ(cloud.count("POST /v3/auth/tokens"), 1);

  clk->advance(7 * 60'000);
  ASSERT_TRUE(p->execute(pt::activate_call("srv-1")).has_value());
  EXPECT_EQ(cloud.count("POST /v3/auth/tokens"), 1) << "3 minutes left: the token is kept";

  clk->advance(90'000);
  ASSERT_TRUE(p->execute(pt::activate_call("srv-1")).has_value());
  EXPECT_EQ(cloud.count("POST /v3/auth/tokens"), 2) << "90 s left: a new token";
}

// Given Keystone refusing the credentials, then a step fails as
// "unauthenticated" (nothing was sent, so the rollback skips its release).
TEST(OpenStackSession, RefusedCredentialsMakeTheStepUnauthenticated) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  nlohmann::json routes{
      {"POST /v3/auth/tokens",
       {{401, {{"error", {{"code", 401}, {"title", "Unauthorized"}, {"message", "bad password"}}}}}}}};
  pt::fake_rest_server cloud{dir, routes};
  ASSERT_GT(cloud.port(), 0);
  auto p = pt::openstack_for(pt::connection_for(cloud.url()), clk);

  auto r = p->execute(pt::activate_call("srv-1"));

  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::permanent);
  EXPECT_EQ(r.error().field, "unauthenticated");
  EXPECT_NE(r.error().message.find("Keystone rejected the credentials of this cluster: bad password"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(cloud.count("GET /compute/servers/srv-1"), 0);
}
