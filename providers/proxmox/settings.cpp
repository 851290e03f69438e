#include "providers/proxmox/settings.hpp"

#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::providers::proxmox {

namespace {

error bad(const std::string& field, std::string why) {
  return make_error(errc::invalid_argument, std::move(why), "connection." + field);
}

// A positive integer, also as a numeric string (Proxmox ids often are).
status positive(const nlohmann::json& j, const char* k, int& out, int min = 1) {
  if (!j.contains(k)) return ok();
  const auto& v = j[k];
  long long n = 0;
  if (v.is_number_integer()) {
    n = v.get<long long>();
  } else if (v.is_string() && !v.get<std::string>().empty() &&
             v.get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
             v.get<std::string>().size() < 10) {
    n = std::stoll(v.get<std::string>());
  } else {
    return bad(k, "expected a positive integer");
  }
  if (n < min || n > 999'999'999) return bad(k, "expected an integer from " + std::to_string(min));
  out = static_cast<int>(n);
  return ok();
}

status flag(const nlohmann::json& j, const char* k, bool& out) {
  if (!j.contains(k)) return ok();
  if (!j[k].is_boolean()) return bad(k, "expected true or false");
  out = j[k].get<bool>();
  return ok();
}

}  // namespace

result<settings> parse_settings(const std::string& connection_json) {
  auto j = parse_json_lenient(connection_json);
  if (!j.is_object()) return make_error(errc::invalid_argument, "expected an object", "connection");
  settings s;
  for (auto [k, out] : std::initializer_list<std::pair<const char*, std::string*>>{{"url", &s.url},
                                                                                   {"node", &s.node},
                                                                                   {"apiToken", &s.token_secret},
                                                                                   {"username", &s.username},
                                                                                   {"password", &s.password},
                                                                                   {"storage", &s.storage},
                                                                                   {"bridge", &s.bridge},
                                                                                   {"pool", &s.pool},
                                                                                   {"ciUser", &s.ci_user},
                                                                                   {"sshKeys", &s.ssh_keys},
                                                                                   {"ipConfig", &s.ip_config},
                                                                                   {"powerMode", &s.power_mode},
                                                                                   {"caFile", &s.ca_file}}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_string()) return bad(k, "expected a string");
    *out = j[k].get<std::string>();
  }
  for (auto [k, out] : std::initializer_list<std::pair<const char*, int*>>{{"activeTimeoutSec", &s.active_timeout_s},
                                                                           {"taskTimeoutSec", &s.task_timeout_s}})
    if (auto st = positive(j, k, *out); !st) return st.error();
  if (auto st = positive(j, "pollIntervalMs", s.poll_interval_ms, 10); !st) return st.error();
  // VMIDs 1-99 are reserved by Proxmox.
  if (auto st = positive(j, "template", s.template_vmid, 100); !st) return st.error();
  if (auto st = flag(j, "fullClone", s.full_clone); !st) return st.error();
  if (auto st = flag(j, "insecure", s.insecure); !st) return st.error();

  while (!s.url.empty() && s.url.back() == '/') s.url.pop_back();
  if (auto p = s.url.find("/api2/json"); p != std::string::npos && p + 10 == s.url.size()) s.url.resize(p);
  if (s.url.empty()) return bad("url", "required (https://<host>:8006)");
  if (s.url.rfind("https://", 0) != 0 && s.url.rfind("http://", 0) != 0) return bad("url", "expected an https:// URL");
  if (auto u = http::parse_url(s.url); !u) return bad("url", "expected https://<host>:8006: " + u.error().message);
  if (s.node.empty()) return bad("node", "required (the node VMs are made on)");
  // Names that go into paths and form values: Proxmox's own alphabets are
  // narrower still; anything else is a typo or an attack.
  for (auto [k, v] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"node", &s.node}, {"storage", &s.storage}, {"bridge", &s.bridge}, {"pool", &s.pool}})
    if (!v->empty() && !is_valid_id(*v))
      return bad(k, "expected a Proxmox name: 1-64 letters, digits, '.', '_' or '-', the first a letter or digit");
  if (j.contains("apiToken")) {
    // user@realm!tokenname=secret: the id names the token, the rest is the secret.
    auto eq = s.token_secret.find('=');
    auto at = s.token_secret.find('@'), bang = s.token_secret.find('!');
    if (eq == std::string::npos || at == std::string::npos || bang == std::string::npos || !(at < bang && bang < eq) ||
        eq + 1 == s.token_secret.size())
      return bad("apiToken", "expected user@realm!tokenname=secret");
    s.token_id = s.token_secret.substr(0, eq);
    s.token_secret = s.token_secret.substr(eq + 1);
    if (!s.username.empty() || !s.password.empty())
      return bad("username", "give either apiToken or username and password, not both");
  } else {
    if (s.username.empty()) return bad("username", "required (user@realm), or apiToken");
    if (s.username.find('@') == std::string::npos) return bad("username", "expected user@realm (e.g. root@pam)");
    if (s.password.empty()) return bad("password", "required with username");
  }
  if (s.power_mode != "stop" && s.power_mode != "shutdown") return bad("powerMode", "expected stop or shutdown");
  if (s.ip_config.empty()) return bad("ipConfig", "expected e.g. ip=dhcp or ip=10.0.0.5/24,gw=10.0.0.1");
  if (s.ci_user.empty()) return bad("ciUser", "must not be empty");
  if (s.storage.empty()) return bad("storage", "must not be empty");
  return s;
}

}  // namespace provisiond::providers::proxmox
