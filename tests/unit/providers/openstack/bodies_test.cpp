#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "providers/openstack/openstack_provider.hpp"

using namespace provisiond;
using namespace provisiond::providers::openstack;

TEST(OpenStackBodies, ServerCreateBootsFromAVolumeAndKeepsThePasswordOutOfUserData) {
  settings cfg;
  cfg.volume_size_gb = 20;
  cfg.volume_type = "nvme";
  providers::step_call call;
  call.request_id = request_id{"req-42"};
  call.order_id = "order/7 (promo)";
  call.tenant_id = tenant_id{"acme"};
  auto body = nlohmann::json::parse(server_create_body(cfg, call, {"flv-1", "img-1", "net-1", "sg-1"}, "Pw-123456789"));
  auto& s = body["server"];
  EXPECT_EQ(s["name"], "vps-req-42");
  EXPECT_EQ(s["flavorRef"], "flv-1");
  EXPECT_EQ(s["imageRef"], "") << "booted from the volume, not the image";
  auto& bdm = s["block_device_mapping_v2"][0];
  EXPECT_EQ(bdm["boot_index"], 0);
  EXPECT_EQ(bdm["uuid"], "img-1");
  EXPECT_EQ(bdm["source_type"], "image");
  EXPECT_EQ(bdm["destination_type"], "volume");
  EXPECT_EQ(bdm["volume_size"], 20);
  EXPECT_EQ(bdm["volume_type"], "nvme");
  EXPECT_EQ(bdm["delete_on_termination"], true);
  EXPECT_EQ(s["networks"], nlohmann::json::parse(R"([{"uuid":"net-1"}])"));
  EXPECT_EQ(s["security_groups"], nlohmann::json::parse(R"([{"name":"sg-1"}])")) << "by id: names are not unique";
  EXPECT_EQ(s["tags"], nlohmann::json::parse(R"(["prov-req-42"])"));
  EXPECT_EQ(s["adminPass"], "Pw-123456789");
  for (auto& [k, v] : s["metadata"].items()) {
    EXPECT_TRUE(std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) << k;
    EXPECT_LE(v.get<std::string>().size(), 255u);
  }
  EXPECT_EQ(s["metadata"]["provisiond_order_id"], "order/7 (promo)") << "values may hold anything";
  auto user_data = provisiond::base64_decode(s["user_data"]);
  ASSERT_TRUE(user_data.has_value());
  EXPECT_EQ(user_data->rfind("#cloud-config\n", 0), 0u);
  EXPECT_NE(user_data->find("hostname: vps-req-42"), std::string::npos);
  EXPECT_EQ(user_data->find("Pw-123456789"), std::string::npos) << "the password is not in user data";
  cfg.volume_type.clear();
  auto plain = nlohmann::json::parse(server_create_body(cfg, call, {"f", "i", "n", "s"}, "p"));
  EXPECT_FALSE(plain["server"]["block_device_mapping_v2"][0].contains("volume_type")) << "the project's default type";
}
