#pragma once
/// The request bodies provisiond sends to Keystone, Nova and Neutron, each
/// made in one place. Pure: no I/O.

#include <string>

#include <nlohmann/json.hpp>

#include "providers/openstack/settings.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::openstack {

/// The mark every resource of a request carries: server tag, security group
/// name, floating IP description ("prov-<request id>").
std::string tag_of(const std::string& request_id);

/// Keystone's POST /auth/tokens: an application credential (unscoped, as
/// Keystone requires) or a password scoped to the project.
nlohmann::json auth_body(const settings& cfg);

/// What a server is made of, resolved by name beforehand.
struct server_refs {
  std::string flavor_id, image_id, network_id, security_group_id;
};

/// The body of Nova's POST /servers for a request (microversion 2.67): boot
/// from a volume made from the image, the request's tag and ids in metadata,
/// the root password as adminPass, cloud-init user data.
std::string server_create_body(const settings& cfg, const step_call& call, const server_refs& refs,
                               const std::string& password);

/// Neutron's POST /security-groups for the request's group.
nlohmann::json security_group_body(const std::string& request_id);

/// Neutron's POST /security-group-rules: TCP `port` in from anywhere (IPv4).
nlohmann::json ingress_rule_body(const std::string& security_group_id, int port);

/// Neutron's POST /floatingips: on the port at once, marked with the tag.
nlohmann::json floating_ip_body(const std::string& external_network_id, const std::string& port_id,
                                const std::string& request_id);

}  // namespace provisiond::providers::openstack
