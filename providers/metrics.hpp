#pragma once
/// Live figures of a running service (`GET /v1/requests/{id}/metrics`), the
/// same shape for every provider. A figure the cloud does not report stays
/// empty (null in JSON): the API never invents a zero.

#include <optional>
#include <string>

namespace provisiond::providers {

struct service_metrics {
  std::string provider;     ///< "openstack", "vmware", "proxmox"
  std::string resource_id;  ///< the server or VM the figures are of
  std::string source;       ///< where they come from ("nova diagnostics", "quickStats", "rrddata")
  std::string power_state;  ///< as the cloud names it ("running", "poweredOn", ...)
  std::optional<double> cpu_count;
  std::optional<double> cpu_usage_percent;  ///< 0-100 of the allotted vCPUs
  std::optional<double> memory_total_mib;
  std::optional<double> memory_used_mib;
  std::optional<double> disk_total_gib;
  std::optional<double> disk_read_bytes_per_sec;
  std::optional<double> disk_write_bytes_per_sec;
  std::optional<double> disk_read_bytes;   ///< since the VM started
  std::optional<double> disk_write_bytes;  ///< since the VM started
  std::optional<double> net_rx_bytes_per_sec;
  std::optional<double> net_tx_bytes_per_sec;
  std::optional<double> net_rx_bytes;  ///< since the VM started
  std::optional<double> net_tx_bytes;  ///< since the VM started
  std::optional<double> uptime_seconds;
  /// The cloud's own answer, as JSON text ("" = none), for what the common
  /// figures leave out.
  std::string details_json;
};

/// {"provider", "resourceId", "source", "powerState", "cpu": {"count",
/// "usagePercent"}, "memory": {"totalMiB", "usedMiB"}, "disk": {"totalGiB",
/// "readBytesPerSec", "writeBytesPerSec", "readBytes", "writeBytes"},
/// "network": {"rxBytesPerSec", "txBytesPerSec", "rxBytes", "txBytes"},
/// "uptimeSeconds", "details"}.
std::string to_json(const service_metrics& m);

}  // namespace provisiond::providers
