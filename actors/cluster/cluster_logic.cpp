#include "actors/cluster/cluster_logic.hpp"

#include <algorithm>

namespace provisiond::actors {

cluster_capacity capacity_of(const events::request_submitted& spec) {
  bool vm = spec.type == "vps" || spec.type == "private-cloud" || spec.type == "managed-database";
  return cluster_capacity{spec.resources.cpu, spec.resources.memory_gb, spec.resources.storage_gb, vm ? 1 : 0};
}

cluster_capacity& operator+=(cluster_capacity& a, const cluster_capacity& b) {
  a.cpu += b.cpu;
  a.memory_gb += b.memory_gb;
  a.storage_gb += b.storage_gb;
  a.vm_slots += b.vm_slots;
  return a;
}

cluster_capacity& operator-=(cluster_capacity& a, const cluster_capacity& b) {
  a.cpu -= b.cpu;
  a.memory_gb -= b.memory_gb;
  a.storage_gb -= b.storage_gb;
  a.vm_slots -= b.vm_slots;
  return a;
}

std::string shortfall(const cluster_capacity& total, const cluster_capacity& used, const cluster_capacity& want) {
  std::string out;
  auto check = [&](const char* name, long long t, long long u, long long w) {
    if (w <= t - u) return;
    out += (out.empty() ? "" : ", ") + std::string(name) + " needs " + std::to_string(w) + ", " +
           std::to_string(std::max(0LL, t - u)) + " free";
  };
  check("cpu", total.cpu, used.cpu, want.cpu);
  check("memoryGb", total.memory_gb, used.memory_gb, want.memory_gb);
  check("storageGb", total.storage_gb, used.storage_gb, want.storage_gb);
  check("vmSlots", total.vm_slots, used.vm_slots, want.vm_slots);
  return out.empty() ? out : "not enough capacity (" + out + ")";
}

std::string not_accepting(const cluster_config& c) {
  if (c.health != "online") return "health is " + c.health;
  if (!c.provisioning_enabled) return "provisioning is disabled";
  return {};
}

placement_plan plan_placement(const events::request_submitted& spec, const std::vector<cluster_config>& clusters) {
  placement_plan plan;
  std::vector<const cluster_config*> fit;
  std::size_t other_types = 0;
  for (const auto& c : clusters) {
    if (c.type != spec.provider) {
      ++other_types;
      continue;
    }
    std::string why = c.region != spec.region ? "region is " + c.region : not_accepting(c);
    if (why.empty()) fit.push_back(&c);
    else plan.skipped.push_back(c.id + ": " + why);
  }
  std::stable_sort(fit.begin(), fit.end(), [](auto* a, auto* b) {
    if (a->is_default != b->is_default) return a->is_default;
    return a->id < b->id;
  });
  for (auto* c : fit) plan.candidates.push_back(c->id);
  if (other_types > 0)
    plan.skipped.push_back(std::to_string(other_types) + " cluster" + (other_types == 1 ? "" : "s") +
                           " of other types");
  return plan;
}

std::string no_cluster_reason(const events::request_submitted& spec, const std::vector<std::string>& skipped) {
  std::string out = "no " + spec.provider + " cluster in " + spec.region + " can take the request";
  if (skipped.empty()) return out + " (no clusters registered)";
  out += " (";
  for (std::size_t i = 0; i < skipped.size(); ++i) out += (i ? "; " : "") + skipped[i];
  return out + ")";
}

}  // namespace provisiond::actors
