#pragma once
/// Reading OpenStack's error bodies (A.2): Nova's `{"<kind>":{"message"}}`,
/// Neutron's `{"NeutronError":{"type","message"}}`, Keystone's `{"error"}`.

#include <string>

namespace provisiond::providers::openstack::detail {

/// The message inside any of OpenStack's error shapes; else the body's start.
std::string cloud_message(const std::string& body);

/// NeutronError.type ("OverQuota", "SecurityGroupInUse", ...); empty if none.
std::string neutron_type(const std::string& body);

}  // namespace provisiond::providers::openstack::detail
