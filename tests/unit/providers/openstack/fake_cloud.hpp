#pragma once
/// A fake OpenStack for the provider's unit tests: Keystone answering a
/// token whose catalog points back at the fake, plus whatever routes a test adds.

#include <initializer_list>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "providers/openstack/openstack_provider.hpp"
#include "tests/unit/providers/fake_rest_server.hpp"

namespace provisiond::testing {

/// Keystone's POST /v3/auth/tokens: the n-th token made expires at
/// `expires_at[n]` (the last repeats); the catalog names {base}/compute,
/// /network and /image.
inline nlohmann::json keystone_routes(std::initializer_list<time_ms> expires_at) {
  auto ep = [](const char* type, const char* path) {
    return nlohmann::json{
        {"type", type},
        {"endpoints", {{{"interface", "public"}, {"region_id", "RegionOne"}, {"url", std::string("{base}") + path}}}}};
  };
  auto replies = nlohmann::json::array();
  for (auto at : expires_at) {
    nlohmann::json token{
        {"token",
         {{"expires_at", format_time(at)},
          {"catalog", {ep("compute", "/compute"), ep("network", "/network"), ep("image", "/image")}}}}};
    replies.push_back({201, token, {{"X-Subject-Token", "tok-" + std::to_string(replies.size() + 1)}}});
  }
  return {{"POST /v3/auth/tokens", replies}};
}

/// A connection for the fake at `url`, with `extra` fields merged in.
inline std::string connection_for(const std::string& url, const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json c{{"authUrl", url + "/v3"}, {"username", "svc"},    {"password", "p"},        {"projectName", "demo"},
                   {"flavor", "m1.small"},   {"image", "debian-12"}, {"network", "tenant-net"}};
  c.update(extra);
  return c.dump();
}

/// A server reply for GET /compute/servers/<id>.
inline nlohmann::json server_reply(const std::string& id, const std::string& status) {
  return {200, {{"server", {{"id", id}, {"status", status}}}}};
}

/// The OpenStack provider for one cluster whose connection is `connection`.
inline std::shared_ptr<providers::provider> openstack_for(std::string connection, std::shared_ptr<clock> clk) {
  return providers::openstack::make_openstack_provider(
      [connection](const std::string&) -> result<std::string> { return connection; }, nullptr, std::move(clk));
}

/// An activate call for the server `server_id` on cluster "c1".
inline providers::step_call activate_call(const std::string& server_id) {
  providers::step_call call;
  call.request_id = request_id{"req-1"};
  call.cluster_id = cluster_id{"c1"};
  call.step = events::step_kind::activate;
  call.inputs["serverId"] = server_id;
  return call;
}

}  // namespace provisiond::testing
