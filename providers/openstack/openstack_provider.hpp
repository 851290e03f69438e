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

#include "common/result.hpp"
#include "events/secret_store.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::openstack {

/// A cluster's `connection` object, parsed.
struct settings {
  std::string auth_url;  ///< Keystone v3, e.g. http://127.0.0.1:5000/v3
  std::string username, password, user_domain = "Default";
  std::string project_name, project_domain = "Default";
  std::string application_credential_id, application_credential_secret;
  std::string region;
  std::string interface = "public";
  std::string flavor, image, network, external_network;
  int volume_size_gb = 10;
  std::string volume_type;
  std::string health_check = "api";  ///< api | probe
  std::string power_mode = "stop";   ///< stop (os-stop/os-start) | suspend (suspend/resume)
  std::string ca_file;
  bool insecure = false;
  int active_timeout_s = 300;
};

/// Parses the connection JSON (secrets included); errors name the field.
result<settings> parse_settings(const std::string& connection_json);

/// One OpenStack error response → retryable or permanent, with the cloud's
/// own message quoted (the reference's A.7 table).
error classify(int status, const std::string& body, const std::string& retry_after, const std::string& what);

/// The endpoint URL for one of `types` from a Keystone catalog (JSON array),
/// matching interface and (when set) region; empty when none.
std::string select_endpoint(const std::string& catalog_json, const std::vector<std::string>& types,
                            const std::string& interface, const std::string& region);

/// What a server is made of, resolved by name beforehand.
struct server_refs {
  std::string flavor_id, image_id, network_id, security_group_id;
};

/// The body of Nova's POST /servers for a request (microversion 2.67): boot
/// from a volume made from the image, the request's tag and ids in metadata,
/// the root password as adminPass, cloud-init user data.
std::string server_create_body(const settings& cfg, const step_call& call, const server_refs& refs,
                               const std::string& password);

/// `connection_of(cluster id)` gives the cluster's connection JSON with its
/// secrets; `secrets` keeps the generated root passwords.
std::shared_ptr<provider> make_openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                  std::shared_ptr<events::secret_store> secrets);

}  // namespace provisiond::providers::openstack
