#include "providers/openstack/bodies.hpp"

#include "common/base64.hpp"

namespace provisiond::providers::openstack {

using nlohmann::json;

std::string tag_of(const std::string& request_id) {
  return "prov-" + request_id;
}

json auth_body(const settings& cfg) {
  json auth;
  if (!cfg.application_credential_id.empty()) {
    // No scope with an application credential: Keystone refuses it (401).
    auth["identity"]["methods"] = json::array({"application_credential"});
    auth["identity"]["application_credential"] = {{"id", cfg.application_credential_id},
                                                  {"secret", cfg.application_credential_secret}};
  } else {
    auth["identity"]["methods"] = json::array({"password"});
    auth["identity"]["password"]["user"] = {
        {"name", cfg.username}, {"domain", {{"name", cfg.user_domain}}}, {"password", cfg.password}};
    auth["scope"]["project"] = {{"name", cfg.project_name}, {"domain", {{"name", cfg.project_domain}}}};
  }
  return json{{"auth", auth}};
}

std::string server_create_body(const settings& cfg, const step_call& call, const server_refs& refs,
                               const std::string& password) {
  std::string hostname = "vps-" + call.request_id.str();
  // cloud-init names the host; the password goes only in adminPass, never in
  // user data (which the project can read back from the metadata service).
  std::string user_data =
      "#cloud-config\nhostname: " + hostname + "\nfqdn: " + hostname + "\nssh_pwauth: true\npackage_update: true\n";
  json bdm{{"boot_index", 0},
           {"uuid", refs.image_id},
           {"source_type", "image"},
           {"destination_type", "volume"},
           {"volume_size", cfg.volume_size_gb},
           {"delete_on_termination", true}};
  if (!cfg.volume_type.empty()) bdm["volume_type"] = cfg.volume_type;
  json server{{"name", hostname},
              {"flavorRef", refs.flavor_id},
              {"imageRef", ""},
              {"block_device_mapping_v2", json::array({bdm})},
              {"networks", json::array({{{"uuid", refs.network_id}}})},
              {"security_groups", json::array({{{"name", refs.security_group_id}}})},
              {"user_data", base64_encode(user_data)},
              {"adminPass", password},
              {"tags", json::array({tag_of(call.request_id.str())})},
              // Keys: [a-zA-Z0-9-_:. ] only; values at most 255 characters.
              {"metadata",
               {{"provisiond_request_id", call.request_id.str().substr(0, 255)},
                {"provisiond_order_id", call.order_id.substr(0, 255)},
                {"provisiond_tenant_id", call.tenant_id.str().substr(0, 255)}}}};
  return json{{"server", server}}.dump();
}

json security_group_body(const std::string& request_id) {
  return json{{"security_group", {{"name", tag_of(request_id)}, {"description", "provisiond " + request_id}}}};
}

json ingress_rule_body(const std::string& security_group_id, int port) {
  return json{{"security_group_rule",
               {{"security_group_id", security_group_id},
                {"direction", "ingress"},
                {"ethertype", "IPv4"},
                {"protocol", "tcp"},
                {"port_range_min", port},
                {"port_range_max", port},
                {"remote_ip_prefix", "0.0.0.0/0"}}}};
}

json floating_ip_body(const std::string& external_network_id, const std::string& port_id,
                      const std::string& request_id) {
  return json{
      {"floatingip",
       {{"floating_network_id", external_network_id}, {"port_id", port_id}, {"description", tag_of(request_id)}}}};
}

}  // namespace provisiond::providers::openstack
