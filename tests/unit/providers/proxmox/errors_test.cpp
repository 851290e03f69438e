// The Proxmox retry-or-fail table (§C of the provider reference), row by row.
#include <gtest/gtest.h>

#include "providers/proxmox/errors.hpp"

namespace pve = provisiond::providers::proxmox;
using provisiond::errc;
using pve::action;

namespace {

std::string body(const std::string& message) {
  return R"({"data":null,"message":")" + message + R"(\n"})";
}

action what(int status, const std::string& message) {
  return pve::classify_reply(status, pve::pve_message(status, body(message))).what;
}

}  // namespace

TEST(ProxmoxErrors, EachRowOfTheTableDecides) {
  EXPECT_EQ(what(500, "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"), action::retry);
  EXPECT_EQ(what(500, "got no worker upid - start worker failed"), action::retry);
  EXPECT_EQ(what(500, "VM 100 is locked (clone)"), action::wait_unlock);
  EXPECT_EQ(what(500, "VM 100 is locked (backup)"), action::wait_unlock);
  EXPECT_EQ(what(500, "unable to create VM 100 - VM 100 already exists on node 'pve1'"), action::already_exists);
  EXPECT_EQ(what(500, "VM 100 is running - destroy failed"), action::stop_first);
  EXPECT_EQ(what(500, "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist"), action::gone);
  EXPECT_EQ(what(500, "no such resource"), action::gone);
  EXPECT_EQ(what(404, "Not Found"), action::gone);
  EXPECT_EQ(what(400, "Parameter verification failed."), action::fail);
  EXPECT_EQ(what(401, "No ticket"), action::reauth);
  EXPECT_EQ(what(403, "Permission check failed (/vms/100, VM.Allocate)"), action::fail);
  EXPECT_EQ(what(500, "something else broke"), action::reconcile);
  EXPECT_EQ(what(596, "Connection timed out"), action::reconcile) << "a 59x proxy error";
  EXPECT_EQ(what(418, "teapot"), action::fail);
}

TEST(ProxmoxErrors, ErrorsQuoteProxmoxAndSayWhetherToRetry) {
  auto e = pve::to_error(500, body("VM 100 is locked (clone)"), "Proxmox start VM 100");
  EXPECT_EQ(e.code, errc::retryable);
  EXPECT_EQ(e.field, "locked");
  EXPECT_EQ(e.message, "Proxmox start VM 100: HTTP 500: VM 100 is locked (clone)");
  auto p = pve::to_error(403, body("Permission check failed (/vms/100, VM.Allocate)"), "x");
  EXPECT_EQ(p.code, errc::permanent);
  EXPECT_EQ(p.field, "forbidden");
  EXPECT_EQ(pve::to_error(596, body("Connection timed out"), "x").code, errc::retryable);
  EXPECT_EQ(pve::to_error(401, body("invalid token value!"), "x").code, errc::permanent) << "after the one re-login";
}

TEST(ProxmoxErrors, ParameterErrorsNameTheParameter) {
  auto m = pve::pve_message(400, R"({"data":null,"message":"Parameter verification failed.\n",
      "errors":{"memory":"value must have a minimum value of 16"}})");
  EXPECT_EQ(m, "Parameter verification failed. memory: value must have a minimum value of 16");
  EXPECT_EQ(pve::pve_message(500, "<html>proxy error</html>"), "<html>proxy error</html>");
  EXPECT_EQ(pve::pve_message(500, R"({"data":null})"), "HTTP 500 without a message");
}

TEST(ProxmoxErrors, TheTableIsOrderedSoSpecificRowsComeFirst) {
  auto rows = pve::classification_table();
  ASSERT_FALSE(rows.empty());
  bool seen_catch_all_5xx = false;
  for (auto& r : rows) {
    if (r.status_min == 500 && std::string(r.contains).empty()) {
      seen_catch_all_5xx = true;
    } else if (r.status_min == 500) {
      EXPECT_FALSE(seen_catch_all_5xx) << r.contains << " is shadowed";
    }
  }
}
