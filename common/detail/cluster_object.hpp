#pragma once
/// The cluster-definition parser on an already parsed JSON value, for the
/// config file's `clusters` array (common/config.cpp) and parse_cluster.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/cluster.hpp"

namespace provisiond::detail {

/// Fills `err` with the first problem (its field prefixed by `path`).
cluster_definition parse_cluster_object(const nlohmann::json& j, const std::string& path, bool require_capacity,
                                        std::optional<error>& err);

}  // namespace provisiond::detail
