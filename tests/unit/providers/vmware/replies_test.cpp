// Envelopes as sent and replies as vcsim answered them (captured on the
// wire, docs/vmware.md), read back.
#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "providers/vmware/envelopes.hpp"
#include "providers/vmware/guestinfo.hpp"
#include "providers/vmware/replies.hpp"

using namespace provisiond;
using namespace provisiond::providers::vmware;

namespace {

const std::string head =
    R"(<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>)";
const std::string tail = "</soapenv:Body></soapenv:Envelope>";
std::string wrap(const std::string& s) {
  return head + s + tail;
}

}  // namespace

TEST(VmwareEnvelopes, TextIsEscapedAndReferencesCarryTheirType) {
  auto b = login({"SessionManager", "SessionManager"}, "svc", "p<&>\"'w");
  EXPECT_NE(b.find("<password>p&lt;&amp;&gt;&quot;&apos;w</password>"), std::string::npos) << b;
  EXPECT_NE(b.find(R"(<_this type="SessionManager">SessionManager</_this>)"), std::string::npos);
  auto e = envelope(b);
  EXPECT_EQ(e.rfind("<?xml", 0), 0u);
  EXPECT_NE(e.find("xmlns:xsi="), std::string::npos);
}

TEST(VmwareEnvelopes, TheCloneCarriesTheIdsAndPlacementInWsdlOrder) {
  auto b = clone_vm({"VirtualMachine", "vm-69"}, {"Folder", "folder-3"}, "vps-req-1", {"ResourcePool", "resgroup-37"},
                    {"Datastore", "ds@1"}, {{request_key, "req-1"}, {tenant_key, "acme"}});
  auto at = [&](const std::string& s) { return b.find(s); };
  EXPECT_LT(at("<folder"), at("<name>vps-req-1</name>"));
  EXPECT_LT(at("<location><datastore"), at("<pool"));
  EXPECT_LT(at("</location>"), at("<template>false</template>"));
  EXPECT_LT(at("<template>"), at("<config>"));
  EXPECT_LT(at("</config>"), at("<powerOn>false</powerOn>"));
  EXPECT_NE(at("<key>provisiond.requestId</key><value xsi:type=\"xsd:string\">req-1</value>"), std::string::npos);
}

TEST(VmwareEnvelopes, ACreatedVmHasItsDiskOnANewControllerAndItsNic) {
  auto b =
      create_vm({"Folder", "folder-3"}, {"ResourcePool", "resgroup-37"}, "vps-req-1", "otherLinux64Guest", "LocalDS_0",
                2, 4096, 20971520, network_backing("VM Network", {"Network", "network-7"}), {{request_key, "req-1"}});
  auto at = [&](const std::string& x) { return b.find(x); };
  EXPECT_EQ(
      b.rfind(R"(<CreateVM_Task xmlns="urn:vim25"><_this type="Folder">folder-3</_this><config><name>vps-req-1</name>)",
              0),
      0u)
      << b;
  EXPECT_LT(at("<guestId>otherLinux64Guest</guestId>"), at("<files><vmPathName>[LocalDS_0]</vmPathName></files>"));
  EXPECT_LT(at("<numCPUs>2</numCPUs>"), at("<memoryMB>4096</memoryMB>"));
  EXPECT_LT(at("<memoryMB>"), at("<deviceChange>"));
  EXPECT_NE(at("<controllerKey>-101</controllerKey><unitNumber>0</unitNumber><capacityInKB>20971520</capacityInKB>"),
            std::string::npos);
  EXPECT_NE(at("<fileOperation>create</fileOperation>"), std::string::npos);
  EXPECT_NE(at(R"(<device xsi:type="VirtualVmxnet3">)"), std::string::npos);
  EXPECT_LT(at("<extraConfig"), at("</config>"));
  EXPECT_LT(at("</config>"), at(R"(<pool type="ResourcePool">resgroup-37</pool>)"));
}

TEST(VmwareReplies, ASoapFaultGivesItsTypeMessageAndFields) {
  auto f = fault_of(wrap(
      R"(<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>managed object not found: VirtualMachine:vm-999</faultstring><detail><ManagedObjectNotFoundFault xmlns="urn:vim25" xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-999</obj></ManagedObjectNotFoundFault></detail></soapenv:Fault>)"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, "ManagedObjectNotFound");
  EXPECT_EQ(f->message, "managed object not found: VirtualMachine:vm-999");
  EXPECT_EQ(f->fields["obj"], "vm-999");
}

TEST(VmwareReplies, AnUnauthenticatedPropertyReadIsAFaultToo) {
  auto f = fault_of(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="VirtualMachine">vm-69</obj><missingSet><path>name</path><fault><fault xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="NotAuthenticated"><object type="VirtualMachine">vm-69</object><privilegeId>System.Read</privilegeId></fault></fault></missingSet></returnval></RetrievePropertiesResponse>)"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, "NotAuthenticated");
  EXPECT_FALSE(fault_of(wrap(R"(<FindByInventoryPathResponse xmlns="urn:vim25"></FindByInventoryPathResponse>)")));
}

TEST(VmwareReplies, FoundAndNotFoundByInventoryPath) {
  auto r = returned_moref(wrap(
      R"(<FindByInventoryPathResponse xmlns="urn:vim25"><returnval type="VirtualMachine">vm-69</returnval></FindByInventoryPathResponse>)"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (moref{"VirtualMachine", "vm-69"}));
  EXPECT_FALSE(
      returned_moref(wrap(R"(<FindByInventoryPathResponse xmlns="urn:vim25"></FindByInventoryPathResponse>)")));
}

TEST(VmwareReplies, TaskInfoWithAnErrorQuotesItsFault) {
  auto t = parse_task_info(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="Task">task-77</obj><propSet><name>info</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="TaskInfo"><key>task-77</key><state>error</state><error><fault XMLSchema-instance:type="InvalidPowerState"><requestedState>poweredOn</requestedState><existingState>poweredOn</existingState></fault><localizedMessage>*types.InvalidPowerState</localizedMessage></error></val></propSet></returnval></RetrievePropertiesResponse>)"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->state, "error");
  ASSERT_TRUE(t->error);
  EXPECT_EQ(t->error->type, "InvalidPowerState");
  EXPECT_EQ(t->error->fields["existingState"], "poweredOn");
  auto ok = parse_task_info(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="Task">task-78</obj><propSet><name>info</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="TaskInfo"><state>success</state><result XMLSchema-instance:type="ManagedObjectReference" type="VirtualMachine">vm-80</result></val></propSet></returnval></RetrievePropertiesResponse>)"));
  ASSERT_TRUE(ok && ok->result);
  EXPECT_EQ(ok->result->value, "vm-80");
}

TEST(VmwareReplies, AVmsPropertiesDevicesAndExtraConfig) {
  auto v = parse_object(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="VirtualMachine">vm-69</obj><propSet><name>runtime.powerState</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="VirtualMachinePowerState">poweredOn</val></propSet><propSet><name>config.extraConfig</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfOptionValue"><OptionValue XMLSchema-instance:type="OptionValue"><key>provisiond.requestId</key><value XMLSchema-instance:type="xsd:string">req-1</value></OptionValue></val></propSet><propSet><name>summary.config</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="VirtualMachineConfigSummary"><memorySizeMB>32</memorySizeMB><numCpu>1</numCpu></val></propSet><propSet><name>config.hardware.device</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfVirtualDevice"><VirtualDevice XMLSchema-instance:type="VirtualDisk"><key>255511522</key><backing XMLSchema-instance:type="VirtualDiskFlatVer2BackingInfo"><fileName>[LocalDS_0] DC0_H0_VM0/disk1.vmdk</fileName><datastore type="Datastore">ds-1</datastore><diskMode>persistent</diskMode></backing><controllerKey>202</controllerKey><unitNumber>0</unitNumber><capacityInKB>1024</capacityInKB></VirtualDevice><VirtualDevice XMLSchema-instance:type="VirtualE1000"><key>4000</key><backing XMLSchema-instance:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port><switchUuid>fea9</switchUuid><portgroupKey>dvportgroup-13</portgroupKey></port></backing><connectable><startConnected>false</startConnected></connectable><controllerKey>100</controllerKey></VirtualDevice></val></propSet></returnval></RetrievePropertiesResponse>)"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value("runtime.powerState"), "poweredOn");
  EXPECT_EQ(v->value("summary.config.numCpu"), "1");
  EXPECT_EQ(v->extra_config.at("provisiond.requestId"), "req-1");
  ASSERT_EQ(v->devices.size(), 2u);
  auto& disk = v->devices[0];
  EXPECT_TRUE(disk.is_disk());
  EXPECT_EQ(disk.capacity_kb, 1024);
  auto& nic = v->devices[1];
  EXPECT_TRUE(nic.is_nic());
  EXPECT_EQ(nic.portgroup_key, "dvportgroup-13");

  // The disk edit keeps the device as read, with the new size and xsi:type.
  auto grown = with_capacity(disk, 20 * 1024 * 1024);
  EXPECT_EQ(grown.rfind(R"(<device xsi:type="VirtualDisk"><key>255511522</key>)", 0), 0u) << grown;
  EXPECT_NE(grown.find("<capacityInKB>20971520</capacityInKB>"), std::string::npos);
  EXPECT_NE(grown.find(R"(<datastore type="Datastore">ds-1</datastore>)"), std::string::npos);
  EXPECT_EQ(grown.find("XMLSchema-instance"), std::string::npos);

  auto moved = with_backing(nic, network_backing("VM Network", {"Network", "network-7"}));
  EXPECT_NE(
      moved.find(R"(<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName>)"),
      std::string::npos)
      << moved;
  EXPECT_EQ(moved.find("portgroupKey"), std::string::npos);
  EXPECT_NE(moved.find("<startConnected>true</startConnected>"), std::string::npos);
}

TEST(VmwareReplies, AReferenceValueKeepsItsType) {
  auto v = parse_object(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="DistributedVirtualPortgroup">dvportgroup-13</obj><propSet><name>config.distributedVirtualSwitch</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ManagedObjectReference" type="DistributedVirtualSwitch">dvs-9</val></propSet><propSet><name>summary.runtime</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="VirtualMachineRuntimeInfo"><host type="HostSystem">host-21</host></val></propSet></returnval></RetrievePropertiesResponse>)"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value("config.distributedVirtualSwitch"), "dvs-9");
  EXPECT_EQ(v->value("config.distributedVirtualSwitch@type"), "DistributedVirtualSwitch");
  EXPECT_EQ(v->value("summary.runtime.host@type"), "HostSystem");
}

TEST(VmwareReplies, PerfCountersByNameAndTheLatestValues) {
  auto ids = parse_perf_counters(wrap(
      R"(<RetrievePropertiesResponse xmlns="urn:vim25"><returnval><obj type="PerformanceManager">PerfMgr</obj><propSet><name>perfCounter</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfPerfCounterInfo"><PerfCounterInfo XMLSchema-instance:type="PerfCounterInfo"><key>2</key><nameInfo><label>Usage</label><key>usage</key></nameInfo><groupInfo><label>CPU</label><key>cpu</key></groupInfo><unitInfo><key>percent</key></unitInfo><rollupType>average</rollupType></PerfCounterInfo></val></propSet></returnval></RetrievePropertiesResponse>)"));
  EXPECT_EQ(ids.at("cpu.usage.average"), 2);
  auto values = parse_perf_values(wrap(
      R"(<QueryPerfResponse xmlns="urn:vim25"><returnval xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="PerfEntityMetric"><entity type="VirtualMachine">vm-69</entity><sampleInfo><timestamp>t</timestamp><interval>20</interval></sampleInfo><value XMLSchema-instance:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id><value>150</value><value>275</value></value></returnval></QueryPerfResponse>)"));
  EXPECT_EQ(values.at(2), 275);
}

TEST(VmwareGuestinfo, UserdataCarriesTheHostnameAndOnlyAHash) {
  auto hash = hash_password("s3cret-Pass", "req-1");
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_EQ(hash->rfind("$6$", 0), 0u);
  EXPECT_EQ(*hash, *hash_password("s3cret-Pass", "req-1")) << "the same request always yields the same user data";
  auto g = guestinfo("req-1", "vps-req-1", *hash);
  EXPECT_EQ(g.at("guestinfo.userdata.encoding"), "base64");
  auto userdata = base64_decode(g.at("guestinfo.userdata"));
  ASSERT_TRUE(userdata);
  EXPECT_NE(userdata->find("hostname: vps-req-1"), std::string::npos);
  EXPECT_NE(userdata->find("root:" + *hash), std::string::npos);
  EXPECT_EQ(userdata->find("s3cret-Pass"), std::string::npos);
  auto metadata = base64_decode(g.at("guestinfo.metadata"));
  ASSERT_TRUE(metadata);
  EXPECT_NE(metadata->find("instance-id: req-1"), std::string::npos);
}
