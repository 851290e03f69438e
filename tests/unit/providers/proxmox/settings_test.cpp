// The Proxmox connection settings: defaults, both auth forms, and errors
// that name the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "providers/proxmox/settings.hpp"

namespace pve = provisiond::providers::proxmox;
using nlohmann::json;

namespace {

json base() {
  return {{"url", "https://pve.example:8006/"}, {"node", "pve1"}, {"apiToken", "root@pam!provisiond=abc-123"}};
}

std::string field_of(json j) {
  auto r = pve::parse_settings(j.dump());
  return r ? std::string("ok") : r.error().field;
}

}  // namespace

TEST(ProxmoxSettings, ATokenSplitsIntoItsIdAndSecretAndDefaultsApply) {
  auto s = pve::parse_settings(base().dump());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->url, "https://pve.example:8006");
  EXPECT_EQ(s->token_id, "root@pam!provisiond");
  EXPECT_EQ(s->token_secret, "abc-123");
  EXPECT_EQ(s->template_vmid, 0);
  EXPECT_TRUE(s->full_clone);
  EXPECT_EQ(s->storage, "local-lvm");
  EXPECT_EQ(s->ip_config, "ip=dhcp");
  EXPECT_EQ(s->ci_user, "root");
}

// Names go into API paths and form values; a URL into the request line.
TEST(ProxmoxSettings, NamesAndTheUrlAreCheckedBeforeTheyGoOnTheWire) {
  for (auto [k, v] : std::initializer_list<std::pair<const char*, const char*>>{
           {"node", "../../nodes/x"}, {"storage", "local;rm"}, {"bridge", "vmbr0 x"}, {"pool", "a/b"}}) {
    auto j = base();
    j[k] = v;
    EXPECT_EQ(field_of(j), std::string("connection.") + k) << v;
  }
  auto j = base();
  j["url"] = "https://pve.example:8006\r\nX-Injected: 1";
  EXPECT_EQ(field_of(j), "connection.url");
}

TEST(ProxmoxSettings, ATicketNeedsUserAtRealmAndPassword) {
  auto j = base();
  j.erase("apiToken");
  j["username"] = "root@pam";
  j["password"] = "pw";
  j["url"] = "https://pve.example:8006/api2/json";
  auto s = pve::parse_settings(j.dump());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->url, "https://pve.example:8006") << "the /api2/json suffix is ours to add";
  j["username"] = "root";
  EXPECT_EQ(field_of(j), "connection.username");
  j["username"] = "root@pam";
  j.erase("password");
  EXPECT_EQ(field_of(j), "connection.password");
}

TEST(ProxmoxSettings, EachBadSettingNamesItsField) {
  auto without = [](const char* k) {
    auto j = base();
    j.erase(k);
    return j;
  };
  EXPECT_EQ(field_of(without("url")), "connection.url");
  EXPECT_EQ(field_of(without("node")), "connection.node");
  EXPECT_EQ(field_of(without("apiToken")), "connection.username");
  auto with = [](const char* k, json v) {
    auto j = base();
    j[k] = v;
    return j;
  };
  EXPECT_EQ(field_of(with("apiToken", "root@pam!provisiond")), "connection.apiToken") << "no secret";
  EXPECT_EQ(field_of(with("apiToken", "provisiond=abc")), "connection.apiToken") << "no user@realm!";
  EXPECT_EQ(field_of(with("template", 42)), "connection.template") << "VMIDs start at 100";
  EXPECT_EQ(field_of(with("template", "9000")), "ok") << "a numeric string is a VMID too";
  EXPECT_EQ(field_of(with("template", "base")), "connection.template");
  EXPECT_EQ(field_of(with("fullClone", "yes")), "connection.fullClone");
  EXPECT_EQ(field_of(with("powerMode", "hibernate")), "connection.powerMode");
  EXPECT_EQ(field_of(with("url", "ftp://pve")), "connection.url");
  EXPECT_EQ(field_of(with("node", 7)), "connection.node");
  EXPECT_EQ(field_of(with("taskTimeoutSec", 0)), "connection.taskTimeoutSec");
  EXPECT_EQ(field_of(with("username", "root@pam")), "connection.username") << "a token and a user at once";
}

TEST(ProxmoxSettings, TheErrorNeverQuotesTheSecret) {
  auto j = base();
  j["apiToken"] = "root@pam-provisiond=s3cr3t-value";
  auto r = pve::parse_settings(j.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("s3cr3t-value"), std::string::npos) << r.error().message;
}
