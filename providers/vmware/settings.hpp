#pragma once
/// A vSphere cluster's `connection` object and its parser. Pure: no I/O.

#include <string>

#include "common/result.hpp"

namespace provisiond::providers::vmware {

/// A cluster's `connection` object, parsed. Inventory names are relative to
/// the datacenter: `folder` under its VM folder ("" = the VM folder itself),
/// `resourcePool` under its host folder ("DC0_C0/Resources/rp1"), `cluster`
/// a compute resource whose root pool is used when no pool is given.
struct settings {
  std::string url;  ///< the vim25 SOAP endpoint, https://vcenter/sdk
  std::string username, password;
  std::string datacenter, cluster, resource_pool, datastore, folder, network;
  std::string template_name;                   ///< "" = CreateVM_Task of an empty VM instead of a clone
  std::string guest_id = "otherLinux64Guest";  ///< the guest OS of a created (not cloned) VM
  std::string ca_file;
  bool insecure = false;
  std::string power_mode = "off";  ///< suspend/reactivate: off (PowerOff/PowerOn) | suspend (Suspend/PowerOn)
  int task_timeout_s = 600;        ///< how long a vSphere task may run before the step gives up

  /// Inventory paths for SearchIndex.FindByInventoryPath.
  std::string folder_path() const;
  std::string template_path() const;
  std::string pool_path() const;
  std::string datastore_path() const;
  std::string network_path() const;
};

/// Parses the connection JSON (secrets included); errors name the field
/// (`connection.datastore`). Safe to call from any thread.
result<settings> parse_settings(const std::string& connection_json);

}  // namespace provisiond::providers::vmware
