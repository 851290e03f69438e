#pragma once
/// A Proxmox VE cluster's `connection` object and its parser. Pure: no I/O.

#include <string>

#include "common/result.hpp"

namespace provisiond::providers::proxmox {

/// A cluster's `connection` object, parsed.
struct settings {
  std::string url;   ///< https://pve.example:8006, without /api2/json
  std::string node;  ///< where VMs are made (clone target or create)
  /// API token `user@realm!tokenname=secret` (the `apiToken` field, a
  /// secret; sent as `PVEAPIToken=…`, no CSRF needed) ...
  std::string token_id;  ///< "user@realm!tokenname"
  std::string token_secret;
  /// ... or a ticket from a user and password (CSRF token on every write).
  std::string username;  ///< "root@pam"
  std::string password;
  int template_vmid = 0;  ///< clone this template; 0: create an empty VM
  bool full_clone = true;
  std::string storage = "local-lvm";  ///< disks and the cloud-init drive
  std::string bridge = "vmbr0";
  std::string pool;
  std::string ci_user = "root";
  std::string ssh_keys;               ///< public keys, one a line, for cloud-init
  std::string ip_config = "ip=dhcp";  ///< ipconfig0
  std::string power_mode = "stop";    ///< stop (hard) | shutdown (ACPI) on suspend
  std::string ca_file;
  bool insecure = false;
  int active_timeout_s = 300;  ///< start until `running`
  int task_timeout_s = 600;    ///< any UPID task until `stopped`
  int poll_interval_ms = 500;
};

/// Parses the connection JSON (secrets included); errors name the field
/// (`connection.node`). Safe to call from any thread.
result<settings> parse_settings(const std::string& connection_json);

}  // namespace provisiond::providers::proxmox
