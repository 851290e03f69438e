// The Proxmox wire format: form encoding, the URL-encoded sshkeys, UPIDs,
// and the names and tags that mark a request's VM.
#include <gtest/gtest.h>

#include <regex>

#include "providers/proxmox/wire.hpp"

namespace pve = provisiond::providers::proxmox;

TEST(ProxmoxWire, FormBodiesPercentEncodeBothSides) {
  EXPECT_EQ(pve::form_encode({{"name", "vps-1"}, {"net0", "virtio,bridge=vmbr0"}, {"x y", "a+b&c"}}),
            "name=vps-1&net0=virtio%2Cbridge%3Dvmbr0&x%20y=a%2Bb%26c");
  EXPECT_EQ(pve::form_encode({}), "");
}

TEST(ProxmoxWire, SshKeysAreUrlEncodedOnceThenFormEncodedAgain) {
  std::string keys = "ssh-ed25519 AAAA+/x= me@host\nssh-rsa BBBB= you@host";
  auto v = pve::sshkeys_value(keys);
  EXPECT_EQ(v, "ssh-ed25519%20AAAA%2B%2Fx%3D%20me%40host%0Assh-rsa%20BBBB%3D%20you%40host");
  // What Proxmox accepts after the form is decoded: its 'urlencoded' format.
  EXPECT_TRUE(std::regex_match(v, std::regex("^[-%a-zA-Z0-9_.!~*'()]*$")));
  EXPECT_EQ(pve::form_encode({{"sshkeys", v}}).find("%2520"), 19u) << "the space is %20, encoded again as %2520";
}

TEST(ProxmoxWire, UpidsNameTheNodeThatAnswersForTheTask) {
  auto u = pve::parse_upid("UPID:pve1:0000A1B2:0004C3D4:6750F00D:qmclone:9000:root@pam!provisiond:");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->node, "pve1");
  EXPECT_EQ(u->type, "qmclone");
  EXPECT_EQ(u->id, "9000");
  EXPECT_EQ(u->user, "root@pam!provisiond");
  auto empty_id = pve::parse_upid("UPID:node-b:00001000:00007000:6750F00D:vzdump::root@pam:");
  ASSERT_TRUE(empty_id);
  EXPECT_EQ(empty_id->id, "");
  EXPECT_FALSE(pve::parse_upid("100"));
  EXPECT_FALSE(pve::parse_upid("UPID:pve1:xyz:0:0:qmstart:100:root@pam:"));
  EXPECT_FALSE(pve::parse_upid("UPID::1:2:3:qmstart:100:root@pam:"));
  EXPECT_FALSE(pve::parse_upid("UPID:pve1:1:2"));
}

TEST(ProxmoxWire, NamesAreDnsNamesAndTagsAreProxmoxTags) {
  std::regex dns{"[a-z0-9]([-a-z0-9]*[a-z0-9])?"};
  for (auto id : {"req-1", "req_ABC.9", std::string(80, 'r').c_str()}) {
    auto n = pve::vm_name(id);
    EXPECT_TRUE(std::regex_match(n, dns)) << n;
    EXPECT_LE(n.size(), 63u);
  }
  provisiond::providers::step_call call;
  call.request_id = provisiond::request_id{"req-7"};
  call.tenant_id = provisiond::tenant_id{"ACME Corp"};
  call.order_id = "order/42";
  auto tags = pve::tags_of(call);
  EXPECT_EQ(tags, "provisiond;prov-req-7;tenant-acme_corp;order-order_42");
  std::regex tag{"[a-z0-9_][a-z0-9_+.-]*"};
  for (auto t : {"provisiond", "prov-req-7", "tenant-acme_corp", "order-order_42"}) {
    EXPECT_TRUE(std::regex_match(std::string(t), tag)) << t;
    EXPECT_TRUE(pve::has_tag(tags, t)) << t;
  }
  EXPECT_FALSE(pve::has_tag(tags, "prov-req"));
  EXPECT_TRUE(pve::has_tag("a,prov-req-7 b", "prov-req-7"));
  EXPECT_NE(pve::description_of(call).find("ACME Corp"), std::string::npos) << "the ids verbatim";
}

TEST(ProxmoxWire, BodiesCarryTheSizesAndTheCloudInit) {
  provisiond::providers::proxmox::settings cfg;
  cfg.ssh_keys = "ssh-ed25519 AAAA me@host";
  provisiond::providers::step_call call;
  call.request_id = provisiond::request_id{"req-9"};
  call.resources = {2, 4, 40};
  auto create = pve::create_form(cfg, call, 123);
  auto value = [](const pve::form& f, const std::string& k) {
    for (auto& [key, v] : f)
      if (key == k) return v;
    return std::string("<none>");
  };
  EXPECT_EQ(value(create, "vmid"), "123");
  EXPECT_EQ(value(create, "cores"), "2");
  EXPECT_EQ(value(create, "memory"), "4096");
  EXPECT_EQ(value(create, "scsi0"), "local-lvm:40");
  EXPECT_EQ(value(create, "ide2"), "local-lvm:cloudinit");
  auto clone = pve::clone_form(cfg, call, 123);
  EXPECT_EQ(value(clone, "newid"), "123");
  EXPECT_EQ(value(clone, "full"), "1");
  EXPECT_EQ(value(clone, "name"), "vps-req-9");
  auto ci = pve::cloud_init_form(cfg, "pw");
  EXPECT_EQ(value(ci, "cipassword"), "pw");
  EXPECT_EQ(value(ci, "ipconfig0"), "ip=dhcp");
  EXPECT_EQ(value(ci, "sshkeys"), "ssh-ed25519%20AAAA%20me%40host");
  EXPECT_EQ(pve::static_ipv4("ip=10.0.0.5/24,gw=10.0.0.1"), "10.0.0.5");
  EXPECT_EQ(pve::static_ipv4("gw=10.0.0.1,ip=10.0.0.6/24"), "10.0.0.6");
  EXPECT_EQ(pve::static_ipv4("ip=dhcp"), "");
  EXPECT_EQ(pve::static_ipv4("ip6=auto"), "");
}
