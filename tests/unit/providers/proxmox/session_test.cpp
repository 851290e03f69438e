// The Proxmox session against a scripted server: the ticket's age judged by
// the injected clock, one re-login on a 401, and UPID tasks polled on the
// node the UPID names (a 400 right after dispatch polled again).
#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "providers/proxmox/detail/session.hpp"
#include "tests/unit/providers/fake_rest_server.hpp"

using namespace provisiond;
namespace pt = provisiond::testing;
namespace px = provisiond::providers::proxmox;
using nlohmann::json;

namespace {

json ticket(const std::string& t) {
  json data{{"ticket", t}, {"CSRFPreventionToken", "csrf-" + t}, {"username", "root@pam"}};
  return json::array({200, json{{"data", data}}});
}

std::shared_ptr<px::detail::session> session_for(const std::string& url, std::shared_ptr<manual_clock> clk) {
  json conn{{"url", url},       {"node", "pve1"},        {"username", "root@pam"},
            {"password", "pw"}, {"pollIntervalMs", 100}, {"taskTimeoutSec", 5}};
  auto s = px::detail::make_session(conn.dump(), clk);
  EXPECT_TRUE(s.has_value());
  return s ? *s : nullptr;
}

const std::string upid = "UPID:pve9:00001234:00005678:6750F00D:qmclone:9000:root@pam:";
const std::string task_path =
    "GET "
    "/api2/json/nodes/pve9/tasks/UPID%3Apve9%3A00001234%3A00005678%3A6750F00D%3Aqmclone%3A9000%3Aroot%40pam%3A/status";

}  // namespace

// Given a ticket (it lives 2 h), when calls run 30 and then 61 minutes
// later on the clock, then the ticket is kept at first and renewed after an hour.
TEST(ProxmoxSession, RenewsTheTicketAfterAnHourOnTheClock) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  json routes{{"POST /api2/json/access/ticket", {ticket("T1"), ticket("T2")}},
              {"GET /api2/json/nodes", {{200, {{"data", {{{"node", "pve1"}}}}}}}}};
  pt::fake_rest_server pve{dir, routes};
  ASSERT_GT(pve.port(), 0);
  auto s = session_for(pve.url(), clk);
  ASSERT_TRUE(s->data("GET", "/nodes", {}, "nodes").has_value());
  clk->advance(30 * 60'000);
  ASSERT_TRUE(s->data("GET", "/nodes", {}, "nodes").has_value());
  EXPECT_EQ(pve.count("POST /api2/json/access/ticket"), 1) << "half an hour: the ticket is kept";
  clk->advance(31 * 60'000);
  ASSERT_TRUE(s->data("GET", "/nodes", {}, "nodes").has_value());
  EXPECT_EQ(pve.count("POST /api2/json/access/ticket"), 2) << "an hour: renewed";
}

// Given a 401 on a call (the ticket expired early), then the session logs in
// again and resends once; a second 401 is permanent.
TEST(ProxmoxSession, ARefusedTicketIsRenewedOnceAndTheCallResent) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  json no_ticket = json::array({401, {{"data", nullptr}, {"message", "No ticket\n"}}});
  json routes{{"POST /api2/json/access/ticket", {ticket("T1"), ticket("T2"), ticket("T3")}},
              {"GET /api2/json/version", {no_ticket, {200, {{"data", {{"version", "8.2.4"}}}}}}},
              {"GET /api2/json/nodes", {no_ticket}}};
  pt::fake_rest_server pve{dir, routes};
  ASSERT_GT(pve.port(), 0);
  auto s = session_for(pve.url(), clk);
  auto v = s->data("GET", "/version", {}, "version");
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ((*v)["version"], "8.2.4");
  EXPECT_EQ(pve.count("GET /api2/json/version"), 2);
  auto n = s->data("GET", "/nodes", {}, "nodes");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code, errc::permanent);
  EXPECT_EQ(pve.count("GET /api2/json/nodes"), 2) << "resent once, not more";
}

// Given a task whose status is a 400 right after dispatch, then running, then
// stopped OK, then wait_task polls the UPID's node (pve9, not the session's
// pve1) until it stops.
TEST(ProxmoxSession, WaitsForTheTaskOnTheNodeItsUpidNames) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  json routes{{"POST /api2/json/access/ticket", {ticket("T1")}},
              {task_path,
               {{400, {{"data", nullptr}, {"message", "Parameter verification failed.\n"}}},
                {200, {{"data", {{"status", "running"}, {"upid", upid}}}}},
                {200, {{"data", {{"status", "stopped"}, {"exitstatus", "OK"}, {"upid", upid}}}}}}}};
  pt::fake_rest_server pve{dir, routes};
  ASSERT_GT(pve.port(), 0);
  auto s = session_for(pve.url(), clk);
  auto st = s->wait_task(upid, "clone");
  EXPECT_TRUE(st.has_value()) << st.error().message;
  EXPECT_EQ(pve.count(task_path), 3);
}

TEST(ProxmoxSession, AFailedTaskIsPermanentAndQuotesItsExitStatus) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  json routes{{"POST /api2/json/access/ticket", {ticket("T1")}},
              {task_path, {{200, {{"data", {{"status", "stopped"}, {"exitstatus", "clone failed: out of space"}}}}}}}};
  pt::fake_rest_server pve{dir, routes};
  ASSERT_GT(pve.port(), 0);
  auto s = session_for(pve.url(), clk);
  auto st = s->wait_task(upid, "Proxmox clone 9000 to 101");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, errc::permanent);
  EXPECT_EQ(st.error().field, "task_failed");
  EXPECT_NE(st.error().message.find("clone failed: out of space"), std::string::npos) << st.error().message;
}

TEST(ProxmoxSession, ATaskThatNeverStopsTimesOutOnTheClock) {
  auto clk = std::make_shared<manual_clock>();
  pt::temp_dir dir;
  json routes{{"POST /api2/json/access/ticket", {ticket("T1")}},
              {task_path, {{200, {{"data", {{"status", "running"}}}}}}}};
  pt::fake_rest_server pve{dir, routes};
  ASSERT_GT(pve.port(), 0);
  auto s = session_for(pve.url(), clk);
  auto st = s->wait_task(upid, "clone");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().field, "timeout");
  EXPECT_EQ(pve.count(task_path), 51) << "5 s of 100 ms polls on the manual clock";
}
