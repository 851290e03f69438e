#include "providers/vmware/settings.hpp"

#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::providers::vmware {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

status bad(const char* field, std::string why) {
  return make_error(errc::invalid_argument, std::move(why), std::string("connection.") + field);
}

}  // namespace

std::string settings::folder_path() const {
  return folder.empty() ? datacenter + "/vm" : datacenter + "/vm/" + folder;
}
std::string settings::template_path() const {
  return datacenter + "/vm/" + template_name;
}
std::string settings::pool_path() const {
  return resource_pool.empty() ? datacenter + "/host/" + cluster + "/Resources" : datacenter + "/host/" + resource_pool;
}
std::string settings::datastore_path() const {
  return datacenter + "/datastore/" + datastore;
}
std::string settings::network_path() const {
  return datacenter + "/network/" + network;
}

result<settings> parse_settings(const std::string& connection_json) {
  auto j = parse_json_lenient(connection_json);
  if (!j.is_object()) return make_error(errc::invalid_argument, "expected an object", "connection");
  settings s;
  for (auto [k, out] : std::initializer_list<std::pair<const char*, std::string*>>{{"url", &s.url},
                                                                                   {"username", &s.username},
                                                                                   {"password", &s.password},
                                                                                   {"datacenter", &s.datacenter},
                                                                                   {"cluster", &s.cluster},
                                                                                   {"resourcePool", &s.resource_pool},
                                                                                   {"datastore", &s.datastore},
                                                                                   {"folder", &s.folder},
                                                                                   {"network", &s.network},
                                                                                   {"template", &s.template_name},
                                                                                   {"guestId", &s.guest_id},
                                                                                   {"powerMode", &s.power_mode},
                                                                                   {"caFile", &s.ca_file}}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_string()) return bad(k, "expected a string").error();
    *out = j[k].get<std::string>();
  }
  if (j.contains("insecure")) {
    if (!j["insecure"].is_boolean()) return bad("insecure", "expected true or false").error();
    s.insecure = j["insecure"].get<bool>();
  }
  if (j.contains("taskTimeoutSec")) {
    if (!j["taskTimeoutSec"].is_number_integer() || j["taskTimeoutSec"].get<int>() < 1)
      return bad("taskTimeoutSec", "expected a positive integer").error();
    s.task_timeout_s = j["taskTimeoutSec"].get<int>();
  }
  if (s.url.empty()) return bad("url", "required (the vim25 SOAP endpoint, e.g. https://vcenter/sdk)").error();
  auto u = http::parse_url(s.url);
  if (!u) return bad("url", "expected http(s)://host[:port]/sdk: " + u.error().message).error();
  if (u->target == "/") s.url = trimmed(s.url) + "/sdk";  // the SOAP endpoint lives at /sdk
  for (auto [k, v] : std::initializer_list<std::pair<const char*, std::string*>>{{"username", &s.username},
                                                                                 {"password", &s.password},
                                                                                 {"datacenter", &s.datacenter},
                                                                                 {"datastore", &s.datastore},
                                                                                 {"network", &s.network},
                                                                                 {"guestId", &s.guest_id}})
    if (v->empty()) return bad(k, "required").error();
  s.folder = trimmed(s.folder);
  s.template_name = trimmed(s.template_name);
  s.resource_pool = trimmed(s.resource_pool);
  s.cluster = trimmed(s.cluster);
  if (s.cluster.empty() && s.resource_pool.empty())
    return bad("cluster", "required: cluster or resourcePool (where the VMs run)").error();
  if (s.power_mode != "off" && s.power_mode != "suspend") return bad("powerMode", "expected off or suspend").error();
  if (!s.ca_file.empty() && s.insecure)
    return bad("insecure", "caFile and insecure exclude each other (a CA to verify with, or no verification)").error();
  return s;
}

}  // namespace provisiond::providers::vmware
