#pragma once
/// Placement and cluster capacity as pure functions: which clusters may take
/// a request and in what order, and whether one still has room. The request
/// actor plans; each cluster actor has the last word on its own capacity.

#include <string>
#include <vector>

#include "common/cluster.hpp"
#include "events/domain_events.hpp"

namespace provisiond::actors {

/// What a request takes from a cluster: its cpu, memory and storage, and one
/// VM slot for the types that run a VM (vps, private-cloud, managed-database).
cluster_capacity capacity_of(const events::request_submitted& spec);

cluster_capacity& operator+=(cluster_capacity& a, const cluster_capacity& b);
cluster_capacity& operator-=(cluster_capacity& a, const cluster_capacity& b);

/// Why `want` does not fit into `total - used` ("cpu needs 8, 4 free; ..."),
/// or empty when it fits.
std::string shortfall(const cluster_capacity& total, const cluster_capacity& used, const cluster_capacity& want);

/// Why a cluster takes no new requests now (health, provisioning switched
/// off), or empty when it does.
std::string not_accepting(const cluster_config& c);

struct placement_plan {
  std::vector<std::string> candidates;  ///< to try in this order
  std::vector<std::string> skipped;     ///< "<id>: <why>", for the failure reason
};

/// Candidates: the requested provider type, the request's region, online and
/// provisioning-enabled; the region's default first, then by id.
placement_plan plan_placement(const events::request_submitted& spec, const std::vector<cluster_config>& clusters);

/// The request_failed reason when no candidate took the request.
std::string no_cluster_reason(const events::request_submitted& spec, const std::vector<std::string>& skipped);

}  // namespace provisiond::actors
