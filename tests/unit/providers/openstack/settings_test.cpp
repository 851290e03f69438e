#include <gtest/gtest.h>

#include "providers/openstack/openstack_provider.hpp"

using namespace provisiond;
using namespace provisiond::providers::openstack;

TEST(OpenStackSettings, RequiredFieldsAndEitherPasswordOrApplicationCredential) {
  auto ok = parse_settings(R"({"authUrl":"https://keystone:5000/v3/","username":"svc","password":"p","projectName":"demo",
      "flavor":"m1.small","image":"debian-12","network":"tenant-net","volumeSizeGb":20,"volumeType":"nvme","powerMode":"suspend"})");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->auth_url, "https://keystone:5000/v3") << "trailing slash dropped";
  EXPECT_EQ(ok->user_domain, "Default");
  EXPECT_EQ(ok->volume_size_gb, 20);
  EXPECT_EQ(ok->volume_type, "nvme");
  EXPECT_EQ(ok->power_mode, "suspend");
  EXPECT_EQ(ok->health_check, "api");
  auto app = parse_settings(R"({"authUrl":"https://k/v3","applicationCredentialId":"ac1","applicationCredentialSecret":"s",
      "flavor":"f","image":"i","network":"n"})");
  ASSERT_TRUE(app.has_value()) << app.error().message;
  struct bad {
    const char* json;
    const char* field;
  };
  for (auto& b : std::vector<bad>{
           {R"({"username":"u","password":"p","projectName":"x","flavor":"f","image":"i","network":"n"})", "connection.authUrl"},
           {R"({"authUrl":"https://k/v3","password":"p","projectName":"x","flavor":"f","image":"i","network":"n"})", "connection.username"},
           {R"({"authUrl":"https://k/v3","applicationCredentialId":"a","flavor":"f","image":"i","network":"n"})", "connection.applicationCredentialSecret"},
           {R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","image":"i","network":"n"})", "connection.flavor"},
           {R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","flavor":"f","image":"i","network":"n","volumeSizeGb":0})", "connection.volumeSizeGb"},
           {R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","flavor":"f","image":"i","network":"n","powerMode":"pause"})", "connection.powerMode"},
           {R"({"authUrl":42})", "connection.authUrl"},
       }) {
    auto e = parse_settings(b.json);
    ASSERT_FALSE(e.has_value()) << b.json;
    EXPECT_EQ(e.error().field, b.field) << b.json;
  }
}
