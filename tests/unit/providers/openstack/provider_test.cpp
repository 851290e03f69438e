#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "providers/openstack/openstack_provider.hpp"

using namespace provisiond;
using namespace provisiond::providers::openstack;

namespace {

std::shared_ptr<providers::provider> offline_provider() {
  return make_openstack_provider([](const std::string&) -> result<std::string> { return std::string("{}"); }, nullptr,
                                 std::make_shared<manual_clock>());
}

}  // namespace

// Given connection settings, when the provider validates them, then it answers
// exactly what parse_settings does: ok, or the same error naming the field.
TEST(OpenStackProvider, ValidatesAConnectionWithTheSettingsParser) {
  auto p = offline_provider();
  EXPECT_EQ(p->kind(), "openstack");
  for (
      const char* conn : {
          R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","flavor":"f","image":"i","network":"n"})",
          R"({"authUrl":"https://k/v3","applicationCredentialId":"a","flavor":"f","image":"i","network":"n"})",
          R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","image":"i","network":"n"})",
          R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","flavor":"f","image":"i","network":"n","healthCheck":"ping"})",
          R"({"authUrl":42})",
          R"([1,2])",
          "not json",
      }) {
    auto parsed = parse_settings(conn);
    auto checked = p->validate_connection(conn);
    ASSERT_EQ(checked.has_value(), parsed.has_value()) << conn;
    if (parsed) continue;
    EXPECT_EQ(checked.error().code, parsed.error().code) << conn;
    EXPECT_EQ(checked.error().field, parsed.error().field) << conn;
    EXPECT_EQ(checked.error().message, parsed.error().message) << conn;
  }
  auto missing = p->validate_connection(
      R"({"authUrl":"https://k/v3","username":"u","password":"p","projectName":"x","image":"i","network":"n"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field, "connection.flavor");
  EXPECT_EQ(missing.error().code, errc::invalid_argument);
}
