#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "providers/vmware/settings.hpp"

using namespace provisiond;
using namespace provisiond::providers::vmware;
using nlohmann::json;

namespace {

json valid() {
  return {{"url", "https://vc.example/sdk"},
          {"username", "svc"},
          {"password", "pw"},
          {"datacenter", "DC0"},
          {"cluster", "DC0_C0"},
          {"datastore", "LocalDS_0"},
          {"network", "VM Network"},
          {"template", "ubuntu-tpl"}};
}

std::string field_of(json conn) {
  auto r = parse_settings(conn.dump());
  return r ? std::string("(ok)") : r.error().field;
}

}  // namespace

TEST(VmwareSettings, AValidConnectionParsesWithInventoryPaths) {
  auto j = valid();
  j["folder"] = "/tenants/acme/";
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->folder_path(), "DC0/vm/tenants/acme");
  EXPECT_EQ(s->template_path(), "DC0/vm/ubuntu-tpl");
  EXPECT_EQ(s->pool_path(), "DC0/host/DC0_C0/Resources");
  EXPECT_EQ(s->datastore_path(), "DC0/datastore/LocalDS_0");
  EXPECT_EQ(s->network_path(), "DC0/network/VM Network");
  EXPECT_FALSE(s->insecure);
  EXPECT_EQ(s->power_mode, "off");
}

TEST(VmwareSettings, AResourcePoolWinsOverTheClusterRootPool) {
  auto j = valid();
  j.erase("cluster");
  j["resourcePool"] = "DC0_C0/Resources/gold";
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pool_path(), "DC0/host/DC0_C0/Resources/gold");
}

TEST(VmwareSettings, AUrlWithoutAPathGetsTheSdkEndpoint) {
  auto j = valid();
  j["url"] = "https://vc.example:8443/";
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->url, "https://vc.example:8443/sdk");
}

TEST(VmwareSettings, EachMissingRequiredFieldIsNamed) {
  for (auto k : {"url", "username", "password", "datacenter", "datastore", "network"}) {
    auto j = valid();
    j.erase(k);
    EXPECT_EQ(field_of(j), std::string("connection.") + k);
  }
  auto j = valid();
  j.erase("cluster");
  EXPECT_EQ(field_of(j), "connection.cluster") << "cluster or resourcePool";
}

TEST(VmwareSettings, WrongTypesAndValuesNameTheField) {
  auto j = valid();
  j["datastore"] = 7;
  EXPECT_EQ(field_of(j), "connection.datastore");
  j = valid();
  j["insecure"] = "yes";
  EXPECT_EQ(field_of(j), "connection.insecure");
  j = valid();
  j["url"] = "vc.example/sdk";
  EXPECT_EQ(field_of(j), "connection.url");
  j = valid();
  j["url"] = "https://vc.example/sdk\r\nX-Injected: 1";  // would end the request line
  EXPECT_EQ(field_of(j), "connection.url");
  j = valid();
  j["powerMode"] = "hibernate";
  EXPECT_EQ(field_of(j), "connection.powerMode");
  j = valid();
  j["taskTimeoutSec"] = 0;
  EXPECT_EQ(field_of(j), "connection.taskTimeoutSec");
  j = valid();
  j["caFile"] = "/etc/ca.pem";
  j["insecure"] = true;
  EXPECT_EQ(field_of(j), "connection.insecure") << "a CA and no verification exclude each other";
  EXPECT_EQ(field_of(json::array()), "connection");
}

TEST(VmwareSettings, WithoutATemplateTheVmIsCreatedAsTheGuestIdSays) {
  auto j = valid();
  j.erase("template");
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->template_name.empty());
  EXPECT_EQ(s->guest_id, "otherLinux64Guest");
  j["guestId"] = "";
  EXPECT_EQ(field_of(j), "connection.guestId");
}
