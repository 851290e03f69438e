#pragma once
/// An OpenStack cluster's `connection` object and its parser. Pure: no I/O.

#include <string>

#include "common/result.hpp"

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

/// Parses the connection JSON (secrets included); errors name the field
/// (`connection.flavor`). Safe to call from any thread.
result<settings> parse_settings(const std::string& connection_json);

}  // namespace provisiond::providers::openstack
