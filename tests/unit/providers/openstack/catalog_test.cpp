#include <gtest/gtest.h>

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
