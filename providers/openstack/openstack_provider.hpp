#pragma once
/// The OpenStack provider: the VPS flow over Keystone v3, Nova, Neutron,
/// Cinder and Glance REST (see ../shared/reference/provider-apis.md §A).
///
///   allocate   security group (SSH, HTTP, HTTPS ingress), flavor and image by
///              name, a generated root password (sealed, never in an event),
///              cloud-init user data, the server booted from a volume
///              (block_device_mapping_v2), tagged `prov-<request id>` and
///              carrying request, order and tenant ids in its metadata
///   configure  a floating IP on the external network, on the server's port
///   activate   poll until ACTIVE (ERROR → permanent, with Nova's fault)
///   verify     API level (server ACTIVE, port bound, floating IP on it) or
///              probes (SSH banner, HTTP) against the floating IP
///
/// Idempotent by construction: every create is preceded by a lookup by the
/// request's tag / name / port, so a retried or recovered step adopts what
/// exists. Releases tolerate 404 and wait out SecurityGroupInUse.

#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/secret_store.hpp"
#include "providers/openstack/bodies.hpp"    // server_create_body, tag_of, ...
#include "providers/openstack/catalog.hpp"   // select_endpoint
#include "providers/openstack/errors.hpp"    // classify, classification_table
#include "providers/openstack/settings.hpp"  // settings, parse_settings
#include "providers/provider.hpp"

namespace provisiond::providers::openstack {

/// `connection_of(cluster id)` gives the cluster's connection JSON with its
/// secrets; `secrets` keeps the generated root passwords; every wait (server
/// ACTIVE, port, deletions) polls against `clk` and sleeps through it, and
/// token expiry is judged by it. Thread-safe.
std::shared_ptr<provider> make_openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                  std::shared_ptr<events::secret_store> secrets,
                                                  std::shared_ptr<clock> clk);

}  // namespace provisiond::providers::openstack
