#pragma once
/// The Proxmox VE provider: the VPS flow over the PVE REST API
/// (`/api2/json`, ../shared/reference/provider-apis.md §C).
///
///   allocate   a VMID from /cluster/nextid, recorded (sealed, with the
///              secrets) before anything is sent; the template cloned with
///              full=1 (or an empty VM created) as `vps-<request>`, sized from
///              `resources` (cores, memory, the disk grown to storageGb) and
///              tagged with the request, order and tenant ids
///   configure  cloud-init: ciuser, a generated root password (sealed,
///              delivered once at /credentials), sshkeys (URL-encoded),
///              ipconfig0
///   activate   status/start and its task, then status/current `running`
///   verify     status/current running, addresses from the guest agent
///
/// Every write answers a UPID; its task is polled on the node the UPID
/// names until `stopped`, and only exitstatus OK (or WARNINGS) is success.
/// Idempotent: before a create the VM is looked up by the recorded VMID, its
/// name and its tag; a create that meets "already exists" on the recorded
/// VMID is done. Deprovision stops the VM, then DELETE ?purge=1&
/// destroy-unreferenced-disks=1. Errors follow the reference's retry-or-fail
/// table (errors.hpp).

#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/secret_store.hpp"
#include "providers/provider.hpp"
#include "providers/proxmox/errors.hpp"    // classify_reply, classification_table
#include "providers/proxmox/settings.hpp"  // settings, parse_settings
#include "providers/proxmox/wire.hpp"      // form_encode, parse_upid, tags_of, ...

namespace provisiond::providers::proxmox {

/// `connection_of(cluster id)` gives the cluster's connection JSON with its
/// secrets; `secrets` keeps the root passwords and the recorded VMIDs; every
/// wait (tasks, locks, power states) polls against `clk` and sleeps through
/// it, and the ticket's age is judged by it. Thread-safe.
std::shared_ptr<provider> make_proxmox_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                std::shared_ptr<events::secret_store> secrets,
                                                std::shared_ptr<clock> clk);

}  // namespace provisiond::providers::proxmox
