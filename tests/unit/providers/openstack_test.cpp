#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "providers/openstack/openstack_provider.hpp"

using namespace provisiond;
using namespace provisiond::providers::openstack;

TEST(OpenStackCatalog, PicksTypeInterfaceAndRegionAcceptingCinderAliases) {
  auto catalog = R"([
    {"type":"compute","endpoints":[
      {"interface":"internal","region_id":"RegionOne","url":"http://nova-int:8774/v2.1"},
      {"interface":"public","region_id":"RegionTwo","url":"https://nova-2.example/v2.1"},
      {"interface":"public","region_id":"RegionOne","url":"https://nova-1.example/v2.1/"}]},
    {"type":"volumev3","endpoints":[{"interface":"public","region":"RegionOne","url":"https://cinder/v3/p1"}]},
    {"type":"network","endpoints":[{"interface":"public","region_id":"RegionOne","url":"https://neutron:9696"}]}])";
  EXPECT_EQ(select_endpoint(catalog, {"compute"}, "public", "RegionOne"), "https://nova-1.example/v2.1");
  EXPECT_EQ(select_endpoint(catalog, {"compute"}, "public", "RegionTwo"), "https://nova-2.example/v2.1");
  EXPECT_EQ(select_endpoint(catalog, {"compute"}, "internal", ""), "http://nova-int:8774/v2.1");
  EXPECT_EQ(select_endpoint(catalog, {"block-storage", "volumev3", "volume"}, "public", "RegionOne"), "https://cinder/v3/p1")
      << "the deprecated `region` field counts too";
  EXPECT_EQ(select_endpoint(catalog, {"image"}, "public", ""), "");
  EXPECT_EQ(select_endpoint("not json", {"compute"}, "public", ""), "");
}

TEST(OpenStackErrors, ClassifiedPerTheReferenceTable) {
  struct row {
    int status;
    const char* body;
    const char* retry_after;
    errc code;
    const char* field;
  };
  for (auto& r : std::vector<row>{
           {403, R"({"forbidden":{"code":403,"message":"Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"}})", "", errc::permanent, "quota"},
           {403, R"({"forbidden":{"code":403,"message":"Policy doesn't allow x"}})", "", errc::permanent, "forbidden"},
           {409, R"({"NeutronError":{"type":"OverQuota","message":"Quota exceeded for resources: ['floatingip']","detail":""}})", "", errc::permanent, "quota"},
           {409, R"({"NeutronError":{"type":"SecurityGroupInUse","message":"in use","detail":""}})", "", errc::retryable, "busy"},
           {409, R"({"conflictingRequest":{"code":409,"message":"Cannot 'os-stop' instance x while it is in task_state powering-off"}})", "", errc::retryable, "busy"},
           {409, R"({"conflictingRequest":{"code":409,"message":"Port is in use"}})", "", errc::permanent, "conflict"},
           {413, R"({"overLimit":{"code":413,"message":"VolumeSizeExceedsAvailableQuota"}})", "0", errc::permanent, "quota"},
           {413, R"({"overLimit":{"code":413,"message":"slow down","retryAfter":"5"}})", "5", errc::retryable, "rate_limited"},
           {429, "", "", errc::retryable, "rate_limited"},
           {400, R"({"badRequest":{"code":400,"message":"Invalid flavorRef"}})", "", errc::permanent, "bad_request"},
           {400, R"({"NeutronError":{"type":"ExternalIpAddressExhausted","message":"No more IP addresses"}})", "", errc::permanent, "bad_request"},
           {401, R"({"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}})", "", errc::permanent, "auth"},
           {503, "", "", errc::retryable, "server_error"},
           {500, R"({"computeFault":{"code":500,"message":"boom"}})", "", errc::retryable, "server_error"},
       }) {
    auto e = classify(r.status, r.body, r.retry_after, "Nova create server");
    EXPECT_EQ(e.code, r.code) << r.status << " " << r.body;
    EXPECT_EQ(e.field, r.field) << r.status << " " << r.body;
    EXPECT_NE(e.message.find("Nova create server: HTTP " + std::to_string(r.status)), std::string::npos) << e.message;
  }
  // The cloud's own words are quoted.
  auto quota = classify(403, R"({"forbidden":{"code":403,"message":"Quota exceeded for cores"}})", "", "Nova create server");
  EXPECT_NE(quota.message.find("Quota exceeded for cores"), std::string::npos);
  auto neutron = classify(409, R"({"NeutronError":{"type":"OverQuota","message":"Quota exceeded for resources: ['port']"}})", "", "x");
  EXPECT_NE(neutron.message.find("OverQuota: Quota exceeded for resources"), std::string::npos) << neutron.message;
}

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

TEST(OpenStackBodies, ServerCreateBootsFromAVolumeAndKeepsThePasswordOutOfUserData) {
  settings cfg;
  cfg.volume_size_gb = 20;
  cfg.volume_type = "nvme";
  providers::step_call call;
  call.request_id = "req-42";
  call.order_id = "order/7 (promo)";
  call.tenant_id = "acme";
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
