#pragma once
/// Proxmox VE's wire format, pure parts (§C of the provider reference):
/// form-encoded bodies, the URL-encoded `sshkeys` value, UPIDs, and the
/// names and tags that mark a request's VM. No I/O.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "providers/provider.hpp"
#include "providers/proxmox/settings.hpp"

namespace provisiond::providers::proxmox {

/// Ordered key=value pairs of a form body or a query.
using form = std::vector<std::pair<std::string, std::string>>;

/// RFC 3986 percent-encoding: unreserved characters stay, everything else
/// (space too) becomes %XX.
std::string percent_encode(const std::string& s);

/// application/x-www-form-urlencoded: k=v&k=v, each side percent-encoded.
std::string form_encode(const form& f);

/// The value Proxmox wants for `sshkeys`: the keys, URL-encoded once (the
/// form encoding then encodes them a second time, as the API expects).
std::string sshkeys_value(const std::string& keys);

/// A UPID "UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:".
struct upid {
  std::string node;  ///< the node whose /tasks answer for it
  std::string type;  ///< qmclone, qmstart, qmdestroy, ...
  std::string id;    ///< usually the VMID
  std::string user;
  std::string text;  ///< the whole UPID, as given
};

/// Parses a UPID; nullopt when it is not one.
std::optional<upid> parse_upid(const std::string& text);

/// The VM's name (DNS-name format, at most 63 characters): "vps-<request>".
std::string vm_name(const std::string& request_id);

/// The tag that finds a request's VM: "prov-<request>" (Proxmox tag
/// characters only).
std::string request_tag(const std::string& request_id);

/// Every tag of the VM, ';'-separated: provisiond, the request tag, tenant-
/// and order- tags.
std::string tags_of(const step_call& call);

/// The VM's description: the request, order and tenant ids verbatim.
std::string description_of(const step_call& call);

/// True when `tags` (';', ',' or ' '-separated) holds `tag`.
bool has_tag(const std::string& tags, const std::string& tag);

/// The allocate step's form for POST /nodes/{node}/qemu (no template):
/// cores, memory, a disk of `storageGb`, a NIC, a cloud-init drive, the tags.
form create_form(const settings& cfg, const step_call& call, int vmid);

/// POST /nodes/{node}/qemu/{template}/clone.
form clone_form(const settings& cfg, const step_call& call, int vmid);

/// PUT …/config after a clone: cores, memory, tags, description, agent.
form sizing_form(const step_call& call);

/// PUT …/config of the configure step: ciuser, cipassword, sshkeys, ipconfig0.
form cloud_init_form(const settings& cfg, const std::string& password);

/// The IPv4 address in an `ipconfig0` like "ip=10.0.0.5/24,gw=…"; empty for dhcp.
std::string static_ipv4(const std::string& ip_config);

}  // namespace provisiond::providers::proxmox
