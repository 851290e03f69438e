// The waits of the OpenStack provider run on its injected clock: on a manual
// clock a wait of minutes takes no real time.
#include <gtest/gtest.h>

#include "tests/unit/providers/openstack/fake_cloud.hpp"

using namespace provisiond;
namespace pt = provisiond::testing;
using nlohmann::json;

// Given a server stuck in BUILD and activeTimeoutSec 30, when activate runs
// on a manual clock, then it gives up as a permanent timeout exactly when
// the clock has moved 30 s (it polled, slept on the clock, polled again).
TEST(OpenStackWaits, ActivateGivesUpAfterActiveTimeoutSecOfTheClock) {
  auto clk = std::make_shared<manual_clock>();
  auto start = clk->now();
  pt::temp_dir dir;
  auto routes = pt::keystone_routes({start + 3'600'000});
  routes["GET /compute/servers/srv-1"] = {pt::server_reply("srv-1", "BUILD")};
  pt::fake_rest_server cloud{dir, routes};
  ASSERT_GT(cloud.port(), 0);
  auto p = pt::openstack_for(pt::connection_for(cloud.url(), {{"activeTimeoutSec", 30}}), clk);

  auto r = p->execute(pt::activate_call("srv-1"));

  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::permanent);
  EXPECT_EQ(r.error().field, "timeout");
  EXPECT_NE(r.error().message.find("still BUILD after 30 s (waiting for ACTIVE)"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(clk->now() - start, 30'000) << "the wait slept on the injected clock";
  EXPECT_GT(cloud.count("GET /compute/servers/srv-1"), 2) << "it polled while waiting";
}

// Given a server that turns ACTIVE on the fourth poll, when activate runs,
// then it succeeds after three poll intervals of the clock.
TEST(OpenStackWaits, ActivateSucceedsOnceTheServerIsActive) {
  auto clk = std::make_shared<manual_clock>();
  auto start = clk->now();
  pt::temp_dir dir;
  auto routes = pt::keystone_routes({start + 3'600'000});
  routes["GET /compute/servers/srv-1"] = {pt::server_reply("srv-1", "BUILD"), pt::server_reply("srv-1", "BUILD"),
                                          pt::server_reply("srv-1", "BUILD"), pt::server_reply("srv-1", "ACTIVE")};
  pt::fake_rest_server cloud{dir, routes};
  ASSERT_GT(cloud.port(), 0);
  auto p = pt::openstack_for(pt::connection_for(cloud.url()), clk);

  auto r = p->execute(pt::activate_call("srv-1"));

  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outputs.at("status"), "ACTIVE");
  EXPECT_EQ(clk->now() - start, 1'500);
}

// Given a server that went to ERROR, then activate fails at once with Nova's fault.
TEST(OpenStackWaits, ActivateReportsNovasFaultWithoutWaiting) {
  auto clk = std::make_shared<manual_clock>();
  auto start = clk->now();
  pt::temp_dir dir;
  auto routes = pt::keystone_routes({start + 3'600'000});
  routes["GET /compute/servers/srv-1"] = {
      {200, {{"server", {{"id", "srv-1"}, {"status", "ERROR"}, {"fault", {{"message", "No valid host was found"}}}}}}}};
  pt::fake_rest_server cloud{dir, routes};
  ASSERT_GT(cloud.port(), 0);
  auto p = pt::openstack_for(pt::connection_for(cloud.url()), clk);

  auto r = p->execute(pt::activate_call("srv-1"));

  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "server_error");
  EXPECT_NE(r.error().message.find("No valid host was found"), std::string::npos) << r.error().message;
  EXPECT_EQ(clk->now(), start);
}
