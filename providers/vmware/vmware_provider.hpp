#pragma once
/// The VMware vSphere provider: the VPS flow over the vim25 SOAP API (the
/// one govmomi and the Terraform vSphere provider speak), tested against
/// vcsim. docs/vmware.md has the wire notes.
///
///   allocate   CloneVM_Task of the template into the folder, resource pool
///              and datastore, named vps-<request id>, carrying request,
///              order and tenant ids in extraConfig; then ReconfigVM_Task
///              to the ordered CPUs, memory and disk size (no template:
///              CreateVM_Task of a VM of that size with disk and NIC)
///   configure  the first NIC on the configured network (edited or added);
///              cloud-init guestinfo metadata/userdata with the hostname and
///              a generated root password (sealed in the secret store, only
///              its SHA-512 crypt hash goes to the VM)
///   activate   PowerOnVM_Task, then runtime.powerState == poweredOn
///   verify     power state, VMware Tools and the guest IP where reported
///
/// Idempotent by construction: every create is preceded by a lookup of the
/// VM by name in the folder (and its extraConfig), so a retried or
/// recovered step adopts what exists. Releases power off and destroy,
/// tolerating ManagedObjectNotFound.

#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/secret_store.hpp"
#include "providers/provider.hpp"
#include "providers/vmware/envelopes.hpp"  // the SOAP requests
#include "providers/vmware/errors.hpp"     // classify, classification_table
#include "providers/vmware/settings.hpp"   // settings, parse_settings

namespace provisiond::providers::vmware {

/// `connection_of(cluster id)` gives the cluster's connection JSON with its
/// secrets; `secrets` keeps the generated root passwords; every wait (task,
/// power state) polls against `clk` and sleeps through it. Thread-safe.
std::shared_ptr<provider> make_vmware_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                               std::shared_ptr<events::secret_store> secrets,
                                               std::shared_ptr<clock> clk);

}  // namespace provisiond::providers::vmware
