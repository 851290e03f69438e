// The Proxmox provider's reads: the request's recorded VMID (its intent),
// the VM in /cluster/resources, its status, and the waits on the injected
// clock (locks, power states, tasks).
#include "common/json.hpp"
#include "providers/proxmox/detail/provider.hpp"
#include "providers/proxmox/errors.hpp"
#include "providers/proxmox/wire.hpp"

namespace provisiond::providers::proxmox::detail {

using nlohmann::json;

std::string intent_name(const std::string& request_id) {
  return "request/" + request_id + "/proxmox-vm";
}

std::string str_of(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{};
}

std::optional<double> num_of(const json& j, const char* k) {
  if (!j.is_object() || !j.contains(k)) return std::nullopt;
  const auto& v = j[k];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      double d = std::stod(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return d;
    } catch (...) {
    }
  }
  return std::nullopt;
}

result<std::optional<vm_ref>> proxmox_provider::intent(const std::string& request_id) {
  auto stored = secrets_->get(intent_name(request_id));
  if (!stored) return stored.error();
  if (!*stored) return std::optional<vm_ref>{};
  auto j = parse_json_lenient(**stored);
  auto id = j.is_object() && j.contains("vmid") ? as_integer(j["vmid"]) : std::nullopt;
  if (!id) return std::optional<vm_ref>{};
  return std::optional<vm_ref>{vm_ref{static_cast<int>(*id), str_of(j, "node")}};
}

status proxmox_provider::record_intent(const std::string& request_id, const vm_ref& vm) {
  return secrets_->put(intent_name(request_id), json{{"vmid", vm.vmid}, {"node", vm.node}}.dump());
}

result<json> proxmox_provider::find_vms(session& s, const std::string& request_id) {
  auto list = s.data("GET", "/cluster/resources", {{"type", "vm"}}, "Proxmox cluster resources");
  if (!list) return list.error();
  auto recorded = intent(request_id);
  if (!recorded) return recorded.error();
  auto name = vm_name(request_id);
  auto tag = request_tag(request_id);
  json ours = json::array();
  for (auto& vm : list->is_array() ? *list : json::array()) {
    // Only what carries the request's name or tag: a stranger on the
    // recorded VMID is never ours.
    if (str_of(vm, "name") != name && !has_tag(str_of(vm, "tags"), tag)) continue;
    if (vm.contains("template") && (as_integer(vm["template"]) == 1 || vm["template"] == true)) continue;
    auto id = vm.contains("vmid") ? as_integer(vm["vmid"]) : std::nullopt;
    if (*recorded && id && *id == (*recorded)->vmid)
      ours.insert(ours.begin(), vm);  // the recorded one first
    else
      ours.push_back(vm);
  }
  return ours;
}

result<std::optional<json>> proxmox_provider::find_vm(session& s, const std::string& request_id) {
  auto all = find_vms(s, request_id);
  if (!all) return all.error();
  if (all->empty()) return std::optional<json>{};
  return std::optional<json>{(*all)[0]};
}

result<vm_ref> proxmox_provider::locate(session& s, const std::string& request_id, const events::string_map& inputs,
                                        errc missing) {
  auto id = inputs.find("vmid");
  auto node = inputs.find("node");
  if (id != inputs.end() && node != inputs.end())
    if (auto n = as_integer(json(id->second))) return vm_ref{static_cast<int>(*n), node->second};
  auto vm = find_vm(s, request_id);
  if (!vm) return vm.error();
  if (!*vm) {
    std::string why = "no VM named " + vm_name(request_id) + " or tagged " + request_tag(request_id);
    return missing == errc::permanent ? permanent_error("not_found", std::move(why))
                                      : make_error(missing, std::move(why));
  }
  return vm_ref{static_cast<int>(as_integer((**vm)["vmid"]).value_or(0)), str_of(**vm, "node")};
}

result<std::pair<std::shared_ptr<session>, vm_ref>> proxmox_provider::request_vm(const provisiond::request_id& request,
                                                                                 const provisiond::cluster_id& cluster,
                                                                                 errc missing) {
  auto s = session_for(cluster.str());
  if (!s) return s.error();
  auto vm = locate(**s, request.str(), {}, missing);
  if (!vm) return vm.error();
  return std::pair{*s, *vm};
}

namespace {

std::string vm_path(const vm_ref& vm) {
  return "/nodes/" + percent_encode(vm.node) + "/qemu/" + std::to_string(vm.vmid);
}

}  // namespace

result<json> proxmox_provider::vm_status(session& s, const vm_ref& vm) {
  return s.data("GET", vm_path(vm) + "/status/current", {}, "Proxmox VM " + std::to_string(vm.vmid) + " status");
}

status proxmox_provider::wait_unlocked(session& s, const vm_ref& vm) {
  auto deadline = clk_->now() + time_ms{s.cfg.task_timeout_s} * 1000;
  for (;;) {
    auto st = vm_status(s, vm);
    if (!st) return st.error();
    auto lock = str_of(*st, "lock");
    if (lock.empty()) return ok();
    if (clk_->now() >= deadline)
      return retryable_error("locked", "Proxmox VM " + std::to_string(vm.vmid) + " is still locked (" + lock + ")");
    clk_->sleep_for(s.cfg.poll_interval_ms);
  }
}

status proxmox_provider::power_action(session& s, const vm_ref& vm, const std::string& verb) {
  auto what = "Proxmox " + verb + " VM " + std::to_string(vm.vmid);
  for (int tries = 0;; ++tries) {
    auto r = s.call("POST", vm_path(vm) + "/status/" + verb);
    if (!r) return r.error();
    if (r->status == 200 && r->body.is_object() && r->body["data"].is_string())
      return s.wait_task(r->body["data"].get<std::string>(), what);
    auto e = to_error(r->status, r->raw, what);
    if (classify_reply(r->status, pve_message(r->status, r->raw)).what != action::wait_unlock || tries >= 3) return e;
    if (auto st = wait_unlocked(s, vm); !st) return st.error();
  }
}

status proxmox_provider::wait_power(session& s, const vm_ref& vm, const std::string& target, int seconds) {
  auto deadline = clk_->now() + time_ms{seconds} * 1000;
  for (;;) {
    auto st = vm_status(s, vm);
    if (!st) return st.error();
    auto now = str_of(*st, "status");
    if (now == target) return ok();
    if (clk_->now() >= deadline)
      return permanent_error("timeout", "Proxmox VM " + std::to_string(vm.vmid) + " still " + now + " after " +
                                            std::to_string(seconds) + " s (waiting for " + target + ")");
    clk_->sleep_for(s.cfg.poll_interval_ms);
  }
}

}  // namespace provisiond::providers::proxmox::detail
