#pragma once
/// Reading vim25 SOAP replies (with pugixml, which stays inside
/// replies.cpp): faults, returned references, property sets, task info,
/// devices, performance counters. Pure: no I/O. Element names are matched by
/// local name and `xsi:type` by any prefix, since vCenter and vcsim bind the
/// schema-instance namespace to different prefixes.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "providers/vmware/envelopes.hpp"

namespace provisiond::providers::vmware {

/// A vim25 fault: its type ("DuplicateName"), vCenter's words, and its own
/// fields flattened ("name" → "vps-1").
struct vim_fault {
  std::string type;
  std::string message;
  std::map<std::string, std::string> fields;
  /// "DuplicateName: <message> (name=vps-1)".
  std::string describe() const;
};

/// The fault of a reply: a SOAP Fault, or the first fault in a
/// RetrieveProperties missingSet (vcsim answers an unauthenticated
/// RetrieveProperties that way, with HTTP 200). nullopt: no fault.
std::optional<vim_fault> fault_of(const std::string& xml);

/// The first <returnval> that is a reference (a task, a found object).
std::optional<moref> returned_moref(const std::string& xml);

struct service_content {
  moref root_folder, property_collector, session_manager, search_index, perf_manager;
};
std::optional<service_content> parse_service_content(const std::string& xml);

/// One virtual device of config.hardware.device.
struct device {
  std::string type;  ///< xsi:type: VirtualDisk, VirtualVmxnet3, VirtualE1000, ...
  int key = 0;
  long long capacity_kb = 0;  ///< disks
  std::string backing_type;   ///< NICs: VirtualEthernetCardNetworkBackingInfo, ...DistributedVirtualPortBackingInfo
  std::string network;        ///< NIC on a standard port group: the Network's id
  std::string device_name;    ///< ... and its name
  std::string portgroup_key;  ///< NIC on a distributed port group
  std::string xml;            ///< the whole device as <device xsi:type="…">, for an edit spec
  bool is_disk() const { return type == "VirtualDisk"; }
  bool is_nic() const { return !backing_type.empty() && backing_type.find("VirtualEthernetCard") == 0; }
};

/// One object's properties from RetrieveProperties: simple values by path,
/// nested ones flattened ("summary.quickStats.overallCpuUsage"), a
/// reference's type under "<path>@type", the extraConfig as a map, the
/// devices.
struct object_view {
  moref obj;
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> extra_config;
  std::vector<device> devices;
  std::string value(const std::string& path) const {
    auto it = values.find(path);
    return it == values.end() ? std::string{} : it->second;
  }
};
std::optional<object_view> parse_object(const std::string& xml);

/// A task's `info`: queued | running | success | error, its result and fault.
struct task_info {
  std::string state;
  std::optional<moref> result;
  std::optional<vim_fault> error;
};
std::optional<task_info> parse_task_info(const std::string& xml);

/// PerformanceManager.perfCounter as "group.name.rollup" → counter id
/// ("cpu.usage.average" → 2).
std::map<std::string, int> parse_perf_counters(const std::string& xml);

/// QueryPerf's latest value per counter id.
std::map<int, double> parse_perf_values(const std::string& xml);

/// The device with its capacity set (capacityInKB and, when present,
/// capacityInBytes): a disk edit that grows it.
std::string with_capacity(const device& disk, long long capacity_kb);

/// The NIC with another backing (a whole <backing> element), connected.
std::string with_backing(const device& nic, const std::string& backing_xml);

}  // namespace provisiond::providers::vmware
