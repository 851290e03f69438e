#include "providers/proxmox/wire.hpp"

#include <algorithm>
#include <cctype>

namespace provisiond::providers::proxmox {

std::string percent_encode(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string form_encode(const form& f) {
  std::string out;
  for (const auto& [k, v] : f) {
    if (!out.empty()) out += '&';
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

std::string sshkeys_value(const std::string& keys) {
  return percent_encode(keys);
}

std::optional<upid> parse_upid(const std::string& text) {
  // UPID:node:pid:pstart:starttime:type:id:user: — ids may be empty.
  if (text.rfind("UPID:", 0) != 0) return std::nullopt;
  std::vector<std::string> parts;
  std::string cur;
  for (std::size_t i = 5; i < text.size(); ++i) {
    if (text[i] == ':') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  if (parts.size() < 7 || parts[0].empty()) return std::nullopt;
  for (int i = 1; i <= 3; ++i)
    if (parts[i].empty() || parts[i].find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      return std::nullopt;
  return upid{parts[0], parts[4], parts[5], parts[6], text};
}

namespace {

// Proxmox tags: [a-z0-9_][a-z0-9_+.-]*; anything else becomes '_'.
std::string tag_text(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char l = static_cast<char>(std::tolower(c));
    out += (std::isalnum(c) || l == '_' || l == '-' || l == '+' || l == '.') ? l : '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

std::string vm_name(const std::string& request_id) {
  std::string out = "vps-";
  for (unsigned char c : request_id) out += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '-';
  if (out.size() > 63) out.resize(63);
  while (out.back() == '-') out.pop_back();
  return out;
}

std::string request_tag(const std::string& request_id) {
  return "prov-" + tag_text(request_id);
}

std::string tags_of(const step_call& call) {
  return "provisiond;" + request_tag(call.request_id.str()) + ";tenant-" + tag_text(call.tenant_id.str()) + ";order-" +
         tag_text(call.order_id);
}

std::string description_of(const step_call& call) {
  return "provisiond request " + call.request_id.str() + "\norder " + call.order_id + "\ntenant " +
         call.tenant_id.str();
}

bool has_tag(const std::string& tags, const std::string& tag) {
  std::string cur;
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    char c = i < tags.size() ? tags[i] : ';';
    if (c == ';' || c == ',' || c == ' ') {
      if (cur == tag) return true;
      cur.clear();
    } else {
      cur += c;
    }
  }
  return false;
}

namespace {

std::string cores_of(const step_call& call) {
  return std::to_string(std::max(1, static_cast<int>(call.resources.cpu)));
}
std::string memory_mib_of(const step_call& call) {
  return std::to_string(std::max(512, static_cast<int>(call.resources.memory_gb * 1024)));
}
int disk_gb_of(const step_call& call) {
  return std::max(1, static_cast<int>(call.resources.storage_gb));
}

}  // namespace

form create_form(const settings& cfg, const step_call& call, int vmid) {
  form f{{"vmid", std::to_string(vmid)},
         {"name", vm_name(call.request_id.str())},
         {"cores", cores_of(call)},
         {"sockets", "1"},
         {"memory", memory_mib_of(call)},
         {"scsihw", "virtio-scsi-pci"},
         {"scsi0", cfg.storage + ":" + std::to_string(disk_gb_of(call))},
         {"net0", "virtio,bridge=" + cfg.bridge},
         {"ide2", cfg.storage + ":cloudinit"},
         {"boot", "order=scsi0"},
         {"agent", "1"},
         {"tags", tags_of(call)},
         {"description", description_of(call)},
         {"start", "0"}};
  if (!cfg.pool.empty()) f.emplace_back("pool", cfg.pool);
  return f;
}

form clone_form(const settings& cfg, const step_call& call, int vmid) {
  form f{{"newid", std::to_string(vmid)},
         {"name", vm_name(call.request_id.str())},
         {"full", cfg.full_clone ? "1" : "0"},
         {"target", cfg.node},
         {"description", description_of(call)}};
  if (cfg.full_clone) f.emplace_back("storage", cfg.storage);
  if (!cfg.pool.empty()) f.emplace_back("pool", cfg.pool);
  return f;
}

form sizing_form(const step_call& call) {
  return {{"cores", cores_of(call)},
          {"memory", memory_mib_of(call)},
          {"agent", "1"},
          {"tags", tags_of(call)},
          {"description", description_of(call)}};
}

form cloud_init_form(const settings& cfg, const std::string& password) {
  form f{{"ciuser", cfg.ci_user}, {"cipassword", password}, {"ipconfig0", cfg.ip_config}};
  if (!cfg.ssh_keys.empty()) f.emplace_back("sshkeys", sshkeys_value(cfg.ssh_keys));
  return f;
}

std::string static_ipv4(const std::string& ip_config) {
  auto p = ip_config.find("ip=");
  if (p == std::string::npos || (p > 0 && ip_config[p - 1] != ',')) return {};
  auto v = ip_config.substr(
      p + 3, ip_config.find(',', p) == std::string::npos ? std::string::npos : ip_config.find(',', p) - p - 3);
  if (v == "dhcp" || v.empty()) return {};
  return v.substr(0, v.find('/'));
}

}  // namespace provisiond::providers::proxmox
