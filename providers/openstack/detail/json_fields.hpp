#pragma once
/// Field access on the clouds' JSON replies, shared by the module's files.

#include <string>

#include <nlohmann/json.hpp>

namespace provisiond::providers::openstack::detail {

/// `j[k]` when it is a string, else `fallback`.
inline std::string str_or(const nlohmann::json& j, const char* k, std::string fallback = {}) {
  return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : fallback;
}

}  // namespace provisiond::providers::openstack::detail
