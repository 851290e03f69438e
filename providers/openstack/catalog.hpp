#pragma once
/// Endpoints from a Keystone v3 service catalog. Pure: no I/O.

#include <string>
#include <vector>

namespace provisiond::providers::openstack {

/// The endpoint URL for one of `types` (in order of preference) from a
/// Keystone catalog (JSON array), matching interface and (when set) region
/// (`region_id`, or the deprecated `region`); trailing slashes dropped;
/// empty when none.
std::string select_endpoint(const std::string& catalog_json, const std::vector<std::string>& types,
                            const std::string& interface, const std::string& region);

/// The service types Cinder is published under, preferred first.
const std::vector<std::string>& volume_service_types();

}  // namespace provisiond::providers::openstack
