#pragma once
/// A cluster as the domain sees it: what it can hold, where it is, its
/// health and its provider settings (secrets split out). Its one parser,
/// shared by the config file and the API, is gateway/cluster_body.hpp.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace provisiond {

/// What a cluster can hold, or what one request takes of it.
struct cluster_capacity {
  int cpu = 0;
  int memory_gb = 0;
  int storage_gb = 0;
  int vm_slots = 0;
  friend bool operator==(const cluster_capacity&, const cluster_capacity&) = default;
};

struct cluster_config {
  std::string id;
  std::string name;
  std::string type;  ///< provider kind: openstack | openshift | simulation | manual | proxmox | vmware
  std::string region;
  bool is_default = false;
  /// Config-file clusters without a capacity get effectively unlimited room.
  cluster_capacity capacity{1'000'000, 1'000'000, 1'000'000'000, 1'000'000};
  std::string health = "online";  ///< online | degraded | offline
  bool provisioning_enabled = true;
  /// Provider settings as a JSON object, secret fields removed (they are
  /// sealed in the secret store); `secret_fields` names them.
  std::string connection = "{}";
  std::vector<std::string> secret_fields;
  time_ms created_at = 0;
  friend bool operator==(const cluster_config&, const cluster_config&) = default;
};

/// A cluster as an API body or a config entry, its secret connection fields
/// split out of `cluster.connection`.
struct cluster_definition {
  cluster_config cluster;
  std::map<std::string, std::string> secrets;  ///< field → value (write-only)
};

}  // namespace provisiond
