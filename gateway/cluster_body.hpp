#pragma once
/// The one parser of a cluster definition ({id?, name, type, region,
/// capacity, health, provisioningEnabled, default, connection}), shared by
/// the cluster API (handlers/clusters.cpp) and the config file's `clusters`
/// array (app/config.cpp). Secret connection fields are split out.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/cluster.hpp"
#include "common/result.hpp"

namespace provisiond::gateway {

/// Top-level connection fields whose name holds password, secret, token,
/// privateKey or apiKey (any case) are secrets.
bool is_secret_field(const std::string& name);

/// Parses and validates a cluster body. `path` prefixes field names in
/// errors (e.g. "clusters[2]"). The capacity is required when
/// `require_capacity`; otherwise it defaults to effectively unlimited.
result<cluster_definition> parse_cluster(const std::string& json_text, const std::string& path, bool require_capacity);

/// The same on an already parsed value (an entry of the config file).
result<cluster_definition> parse_cluster_value(const nlohmann::json& j, const std::string& path, bool require_capacity);

}  // namespace provisiond::gateway
