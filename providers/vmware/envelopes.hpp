#pragma once
/// The vim25 SOAP requests provisiond sends to vCenter, each made in one
/// place (docs/vmware.md lists them with their replies). Element order
/// follows the WSDL's sequences: vCenter checks it, vcsim does not. Pure: no
/// I/O; every text value is XML-escaped here.

#include <map>
#include <string>
#include <vector>

namespace provisiond::providers::vmware {

/// A managed object reference: <x type="VirtualMachine">vm-42</x>.
struct moref {
  std::string type, value;
  bool empty() const { return value.empty(); }
  bool operator==(const moref&) const = default;
};

/// The extraConfig keys that tie a VM to its request.
inline constexpr const char* request_key = "provisiond.requestId";
inline constexpr const char* order_key = "provisiond.orderId";
inline constexpr const char* tenant_key = "provisiond.tenantId";

/// The VM's name for a request: "vps-<request id>" (unique in its folder).
std::string vm_name_of(const std::string& request_id);

/// `&`, `<`, `>`, `"`, `'` as entities.
std::string xml_escape(const std::string& text);

/// A whole SOAP envelope around one method element.
std::string envelope(const std::string& body);

/// `<tag type="T">v</tag>`.
std::string moref_xml(const char* tag, const moref& ref);

std::string retrieve_service_content();
std::string login(const moref& session_manager, const std::string& user, const std::string& password);
std::string logout(const moref& session_manager);
std::string find_by_inventory_path(const moref& search_index, const std::string& path);
/// PropertyCollector.RetrieveProperties of `paths` on one object.
std::string retrieve_properties(const moref& collector, const moref& obj, const std::vector<std::string>& paths);

/// CloneVM_Task of `source` into folder/pool/datastore, powered off, not a
/// template, carrying `extra_config` (the request's ids) from its birth.
std::string clone_vm(const moref& source, const moref& folder, const std::string& name, const moref& pool,
                     const moref& datastore, const std::map<std::string, std::string>& extra_config);

/// CreateVM_Task in `folder` on `pool`: an empty VM named `name` of
/// `guest_id` with its files on `datastore_name`, the CPUs, memory, a thin
/// disk of `disk_kb` on a new paravirtual SCSI controller, a VMXNET3 NIC on
/// `nic_backing_xml`, and `extra_config`.
std::string create_vm(const moref& folder, const moref& pool, const std::string& name, const std::string& guest_id,
                      const std::string& datastore_name, int num_cpus, long long memory_mb, long long disk_kb,
                      const std::string& nic_backing_xml, const std::map<std::string, std::string>& extra_config);

/// The inner elements of a VirtualMachineConfigSpec, in WSDL order.
struct config_spec {
  int num_cpus = 0;                         ///< 0: unchanged
  long long memory_mb = 0;                  ///< 0: unchanged
  std::vector<std::string> device_changes;  ///< VirtualDeviceConfigSpec inner XML each
  std::map<std::string, std::string> extra_config;
};
std::string reconfig_vm(const moref& vm, const config_spec& spec);

/// A VirtualDeviceConfigSpec: `operation` add | edit, `device_xml` a whole
/// <device xsi:type="...">…</device> element.
std::string device_change(const std::string& operation, const std::string& device_xml);

/// A new VMXNET3 NIC (add), connected at power on, on `backing_xml`.
std::string new_nic_device(const std::string& backing_xml);

/// NIC backings: a standard port group (Network) or a distributed one.
std::string network_backing(const std::string& network_name, const moref& network);
std::string dvportgroup_backing(const std::string& switch_uuid, const std::string& portgroup_key);

std::string power_on(const moref& vm);
std::string power_off(const moref& vm);
std::string suspend(const moref& vm);
std::string destroy(const moref& vm);

/// PerformanceManager.QueryPerf: the latest real-time sample (20 s) of
/// `counter_ids` (aggregate instance "") for one entity.
std::string query_perf(const moref& perf_manager, const moref& entity, const std::vector<int>& counter_ids);

}  // namespace provisiond::providers::vmware
