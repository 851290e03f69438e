#include "providers/vmware/envelopes.hpp"

namespace provisiond::providers::vmware {

namespace {

std::string elem(const char* tag, const std::string& text) {
  return std::string("<") + tag + ">" + xml_escape(text) + "</" + tag + ">";
}

std::string this_of(const moref& ref) {
  return moref_xml("_this", ref);
}

std::string task_call(const char* method, const moref& vm) {
  return std::string("<") + method + " xmlns=\"urn:vim25\">" + this_of(vm) + "</" + method + ">";
}

}  // namespace

std::string vm_name_of(const std::string& request_id) {
  return "vps-" + request_id;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  return out;
}

std::string envelope(const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
         "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
         "<soapenv:Body>" +
         body + "</soapenv:Body></soapenv:Envelope>";
}

std::string moref_xml(const char* tag, const moref& ref) {
  return std::string("<") + tag + " type=\"" + xml_escape(ref.type) + "\">" + xml_escape(ref.value) + "</" + tag + ">";
}

std::string retrieve_service_content() {
  return "<RetrieveServiceContent xmlns=\"urn:vim25\">" + this_of({"ServiceInstance", "ServiceInstance"}) +
         "</RetrieveServiceContent>";
}

std::string login(const moref& session_manager, const std::string& user, const std::string& password) {
  return "<Login xmlns=\"urn:vim25\">" + this_of(session_manager) + elem("userName", user) +
         elem("password", password) + "</Login>";
}

std::string logout(const moref& session_manager) {
  return task_call("Logout", session_manager);
}

std::string find_by_inventory_path(const moref& search_index, const std::string& path) {
  return "<FindByInventoryPath xmlns=\"urn:vim25\">" + this_of(search_index) + elem("inventoryPath", path) +
         "</FindByInventoryPath>";
}

std::string retrieve_properties(const moref& collector, const moref& obj, const std::vector<std::string>& paths) {
  std::string props = elem("type", obj.type);
  for (auto& p : paths) props += elem("pathSet", p);
  return "<RetrieveProperties xmlns=\"urn:vim25\">" + this_of(collector) + "<specSet><propSet>" + props +
         "</propSet><objectSet>" + moref_xml("obj", obj) + "</objectSet></specSet></RetrieveProperties>";
}

namespace {

std::string extra_config_xml(const std::map<std::string, std::string>& extra) {
  std::string out;
  for (auto& [k, v] : extra)
    out += "<extraConfig xsi:type=\"OptionValue\">" + elem("key", k) + "<value xsi:type=\"xsd:string\">" +
           xml_escape(v) + "</value></extraConfig>";
  return out;
}

}  // namespace

std::string clone_vm(const moref& source, const moref& folder, const std::string& name, const moref& pool,
                     const moref& datastore, const std::map<std::string, std::string>& extra_config) {
  return "<CloneVM_Task xmlns=\"urn:vim25\">" + this_of(source) + moref_xml("folder", folder) + elem("name", name) +
         "<spec><location>" + moref_xml("datastore", datastore) + moref_xml("pool", pool) +
         "</location><template>false</template><config>" + extra_config_xml(extra_config) +
         "</config><powerOn>false</powerOn></spec></CloneVM_Task>";
}

std::string create_vm(const moref& folder, const moref& pool, const std::string& name, const std::string& guest_id,
                      const std::string& datastore_name, int num_cpus, long long memory_mb, long long disk_kb,
                      const std::string& nic_backing_xml, const std::map<std::string, std::string>& extra_config) {
  // Negative keys tie the disk to the controller made in the same call.
  std::string controller =
      "<operation>add</operation><device xsi:type=\"ParaVirtualSCSIController\"><key>-101</key>"
      "<busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device>";
  std::string disk =
      "<operation>add</operation><fileOperation>create</fileOperation><device xsi:type=\"VirtualDisk\"><key>-102</key>"
      "<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\"><fileName></fileName><diskMode>persistent</diskMode>"
      "<thinProvisioned>true</thinProvisioned></backing><controllerKey>-101</controllerKey><unitNumber>0</unitNumber>" +
      elem("capacityInKB", std::to_string(disk_kb)) + "</device>";
  std::string spec =
      elem("name", name) + elem("guestId", guest_id) + "<files>" + elem("vmPathName", "[" + datastore_name + "]") +
      "</files>" + elem("numCPUs", std::to_string(num_cpus)) + elem("memoryMB", std::to_string(memory_mb)) +
      "<deviceChange>" + controller + "</deviceChange><deviceChange>" + disk + "</deviceChange><deviceChange>" +
      device_change("add", new_nic_device(nic_backing_xml)) + "</deviceChange>" + extra_config_xml(extra_config);
  return "<CreateVM_Task xmlns=\"urn:vim25\">" + this_of(folder) + "<config>" + spec + "</config>" +
         moref_xml("pool", pool) + "</CreateVM_Task>";
}

std::string reconfig_vm(const moref& vm, const config_spec& spec) {
  std::string inner;
  if (spec.num_cpus > 0) inner += elem("numCPUs", std::to_string(spec.num_cpus));
  if (spec.memory_mb > 0) inner += elem("memoryMB", std::to_string(spec.memory_mb));
  for (auto& d : spec.device_changes) inner += "<deviceChange>" + d + "</deviceChange>";
  inner += extra_config_xml(spec.extra_config);
  return "<ReconfigVM_Task xmlns=\"urn:vim25\">" + this_of(vm) + "<spec>" + inner + "</spec></ReconfigVM_Task>";
}

std::string device_change(const std::string& operation, const std::string& device_xml) {
  return elem("operation", operation) + device_xml;
}

std::string new_nic_device(const std::string& backing_xml) {
  // A negative key: vCenter picks the real one.
  return "<device xsi:type=\"VirtualVmxnet3\"><key>-100</key>" + backing_xml +
         "<connectable><startConnected>true</startConnected><allowGuestControl>true</allowGuestControl>"
         "<connected>true</connected></connectable><addressType>generated</addressType></device>";
}

std::string network_backing(const std::string& network_name, const moref& network) {
  return "<backing xsi:type=\"VirtualEthernetCardNetworkBackingInfo\">" + elem("deviceName", network_name) +
         moref_xml("network", network) + "</backing>";
}

std::string dvportgroup_backing(const std::string& switch_uuid, const std::string& portgroup_key) {
  return "<backing xsi:type=\"VirtualEthernetCardDistributedVirtualPortBackingInfo\"><port>" +
         elem("switchUuid", switch_uuid) + elem("portgroupKey", portgroup_key) + "</port></backing>";
}

std::string power_on(const moref& vm) {
  return task_call("PowerOnVM_Task", vm);
}
std::string power_off(const moref& vm) {
  return task_call("PowerOffVM_Task", vm);
}
std::string suspend(const moref& vm) {
  return task_call("SuspendVM_Task", vm);
}
std::string destroy(const moref& vm) {
  return task_call("Destroy_Task", vm);
}

std::string query_perf(const moref& perf_manager, const moref& entity, const std::vector<int>& counter_ids) {
  std::string ids;
  for (int id : counter_ids)
    ids += "<metricId>" + elem("counterId", std::to_string(id)) + "<instance></instance></metricId>";
  return "<QueryPerf xmlns=\"urn:vim25\">" + this_of(perf_manager) + "<querySpec>" + moref_xml("entity", entity) +
         "<maxSample>1</maxSample>" + ids + "<intervalId>20</intervalId></querySpec></QueryPerf>";
}

}  // namespace provisiond::providers::vmware
