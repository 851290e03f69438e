#include "providers/openstack/settings.hpp"

#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::providers::openstack {

result<settings> parse_settings(const std::string& connection_json) {
  auto j = parse_json_lenient(connection_json);
  if (!j.is_object()) return make_error(errc::invalid_argument, "expected an object", "connection");
  settings s;
  auto text = [&](const char* k, std::string& out) -> status {
    if (!j.contains(k)) return ok();
    if (!j[k].is_string())
      return make_error(errc::invalid_argument, "expected a string", std::string("connection.") + k);
    out = j[k].get<std::string>();
    return ok();
  };
  for (auto [k, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"authUrl", &s.auth_url},
           {"username", &s.username},
           {"password", &s.password},
           {"userDomain", &s.user_domain},
           {"projectName", &s.project_name},
           {"projectDomain", &s.project_domain},
           {"applicationCredentialId", &s.application_credential_id},
           {"applicationCredentialSecret", &s.application_credential_secret},
           {"region", &s.region},
           {"interface", &s.interface},
           {"flavor", &s.flavor},
           {"image", &s.image},
           {"network", &s.network},
           {"externalNetwork", &s.external_network},
           {"volumeType", &s.volume_type},
           {"healthCheck", &s.health_check},
           {"powerMode", &s.power_mode},
           {"caFile", &s.ca_file}})
    if (auto st = text(k, *out); !st) return st.error();
  if (j.contains("volumeSizeGb")) {
    if (!j["volumeSizeGb"].is_number_integer() || j["volumeSizeGb"].get<int>() < 1)
      return make_error(errc::invalid_argument, "expected a positive integer", "connection.volumeSizeGb");
    s.volume_size_gb = j["volumeSizeGb"].get<int>();
  }
  if (j.contains("activeTimeoutSec")) {
    if (!j["activeTimeoutSec"].is_number_integer() || j["activeTimeoutSec"].get<int>() < 1)
      return make_error(errc::invalid_argument, "expected a positive integer", "connection.activeTimeoutSec");
    s.active_timeout_s = j["activeTimeoutSec"].get<int>();
  }
  if (j.contains("insecure")) {
    if (!j["insecure"].is_boolean())
      return make_error(errc::invalid_argument, "expected true or false", "connection.insecure");
    s.insecure = j["insecure"].get<bool>();
  }
  while (!s.auth_url.empty() && s.auth_url.back() == '/') s.auth_url.pop_back();
  if (s.auth_url.empty()) return make_error(errc::invalid_argument, "required (Keystone v3 URL)", "connection.authUrl");
  if (auto u = http::parse_url(s.auth_url); !u)
    return make_error(errc::invalid_argument, "expected a Keystone v3 URL: " + u.error().message, "connection.authUrl");
  bool app = !s.application_credential_id.empty();
  if (app && s.application_credential_secret.empty())
    return make_error(errc::invalid_argument, "required with applicationCredentialId",
                      "connection.applicationCredentialSecret");
  if (!app && (s.username.empty() || s.password.empty() || s.project_name.empty()))
    return make_error(errc::invalid_argument,
                      "username, password and projectName are required (or applicationCredentialId and -Secret)",
                      s.username.empty()   ? "connection.username"
                      : s.password.empty() ? "connection.password"
                                           : "connection.projectName");
  for (auto [k, v] :
       {std::pair<const char*, std::string*>{"flavor", &s.flavor}, {"image", &s.image}, {"network", &s.network}})
    if (v->empty()) return make_error(errc::invalid_argument, "required", std::string("connection.") + k);
  if (s.health_check != "api" && s.health_check != "probe")
    return make_error(errc::invalid_argument, "expected api or probe", "connection.healthCheck");
  if (s.power_mode != "stop" && s.power_mode != "suspend")
    return make_error(errc::invalid_argument, "expected stop or suspend", "connection.powerMode");
  return s;
}

}  // namespace provisiond::providers::openstack
