#pragma once
/// Issues API keys through a running provisiond (as its bootstrap admin,
/// the port's default credentials) for tests that act as a tenant or the saga.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace provisiond::testing {

/// "Bearer pvd_…" for a new key of `role` (tenant roles bound to `tenant`),
/// or "" if provisiond refused.
inline std::string issue_api_key(std::uint16_t port, const std::string& role, const std::string& tenant = "",
                                 bool read_only = false) {
  nlohmann::json spec{{"name", "test " + role + " " + tenant}, {"role", role}, {"access", read_only ? "read" : "write"}};
  if (!tenant.empty()) spec["tenantId"] = tenant;
  auto r = http_call(port, "POST", "/v1/api-keys", spec.dump());
  if (r.status != 201) return {};
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("key") ? "Bearer " + j["key"].get<std::string>() : std::string{};
}

}  // namespace provisiond::testing
