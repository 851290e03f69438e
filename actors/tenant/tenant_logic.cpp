#include "actors/tenant/tenant_logic.hpp"

#include <algorithm>
#include <map>
#include <queue>
#include <unordered_map>

namespace provisiond::actors {

quota_amount demand_of(const events::request_submitted& spec) noexcept {
  return quota_amount{1, spec.resources.cpu, spec.resources.memory_gb, spec.resources.storage_gb};
}

quota_amount add(quota_amount a, const quota_amount& b) noexcept {
  a.instances += b.instances;
  a.cpu += b.cpu;
  a.memory_gb += b.memory_gb;
  a.storage_gb += b.storage_gb;
  return a;
}

std::vector<quota_violation> check_quota(const quota_amount& limits, const quota_amount& used,
                                         const quota_amount& demand) {
  std::vector<quota_violation> out;
  auto check = [&](const char* name, int limit, int u, int d) {
    if (limit != unlimited && static_cast<long long>(u) + d > limit) out.push_back(quota_violation{name, d, u, limit});
  };
  check("instances", limits.instances, used.instances, demand.instances);
  check("cpu", limits.cpu, used.cpu, demand.cpu);
  check("memoryGb", limits.memory_gb, used.memory_gb, demand.memory_gb);
  check("storageGb", limits.storage_gb, used.storage_gb, demand.storage_gb);
  return out;
}

std::string describe(const std::vector<quota_violation>& violations) {
  std::string s = "quota exceeded:";
  for (std::size_t i = 0; i < violations.size(); ++i) {
    const auto& v = violations[i];
    s += (i ? "; " : " ") + v.dimension + " " + std::to_string(v.requested) + " requested, " + std::to_string(v.used) +
         " used, limit " + std::to_string(v.limit);
  }
  return s;
}

namespace {

std::optional<std::vector<std::string>> conditions_hold(const events::approval_conditions& c,
                                                        const events::request_submitted& spec) {
  std::vector<std::string> matched;
  auto min = [&](const std::optional<int>& limit, int value, const char* name, const char* field) {
    if (!limit) return true;
    if (value < *limit) return false;
    matched.push_back(std::string(name) + " " + std::to_string(*limit) + " <= " + field + " " + std::to_string(value));
    return true;
  };
  auto in = [&](const std::vector<std::string>& list, const std::string& value, const char* name) {
    if (list.empty()) return true;
    if (std::find(list.begin(), list.end(), value) == list.end()) return false;
    matched.push_back(std::string(name) + " " + value);
    return true;
  };
  if (!min(c.min_cpu, spec.resources.cpu, "minCpu", "cpu")) return std::nullopt;
  if (!min(c.min_memory_gb, spec.resources.memory_gb, "minMemoryGb", "memoryGb")) return std::nullopt;
  if (!min(c.min_storage_gb, spec.resources.storage_gb, "minStorageGb", "storageGb")) return std::nullopt;
  if (!in(c.types, spec.type, "types")) return std::nullopt;
  if (!in(c.regions, spec.region, "regions")) return std::nullopt;
  return matched;
}

}  // namespace

std::optional<rule_match> match_approval(const std::vector<approval_rule>& rules, const std::string& tenant_id,
                                         const events::request_submitted& spec) {
  std::vector<const approval_rule*> candidates;
  for (auto& r : rules)
    if (r.enabled && (r.tenant_id.empty() || r.tenant_id == tenant_id)) candidates.push_back(&r);
  std::stable_sort(candidates.begin(), candidates.end(), [](const approval_rule* a, const approval_rule* b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    if (a->tenant_id.empty() != b->tenant_id.empty()) return !a->tenant_id.empty();
    if (a->created_at != b->created_at) return a->created_at < b->created_at;
    return a->id < b->id;
  });
  for (auto* r : candidates)
    if (auto m = conditions_hold(r->conditions, spec)) return rule_match{*r, std::move(*m)};
  return std::nullopt;
}

admission_plan plan_admission(const std::vector<waiting_request>& waiting,
                              const std::function<std::optional<events::lifecycle>(const std::string&)>& state_of) {
  admission_plan plan;
  std::unordered_map<std::string, const waiting_request*> by_id;
  for (auto& w : waiting) by_id[w.id] = &w;
  std::unordered_map<std::string, int> in_degree;
  std::unordered_map<std::string, bool> blocked_outside;  // waits on a request that is not waiting here
  std::unordered_map<std::string, std::vector<std::string>> dependents;
  // Requests whose prerequisite ended Failed or RolledBack fail now; their own
  // dependents fail in a later round, once that failure is recorded.
  std::unordered_map<std::string, bool> failing;
  for (auto& w : waiting)
    for (auto& d : w.depends_on) {
      if (by_id.count(d)) continue;
      auto st = state_of(d);
      if (st == events::lifecycle::failed || st == events::lifecycle::rolled_back) {
        plan.dependency_failed.emplace_back(w.id, d);
        failing[w.id] = true;
        break;
      }
    }
  for (auto& w : waiting) {
    if (failing[w.id]) continue;
    int deg = 0;
    for (auto& d : w.depends_on) {
      if (by_id.count(d) && !failing[d]) {
        ++deg;
        dependents[d].push_back(w.id);
      } else if (!by_id.count(d) && state_of(d) == events::lifecycle::completed) {
        continue;
      } else {
        blocked_outside[w.id] = true;  // in progress, unknown, or about to fail
      }
    }
    in_degree[w.id] = deg;
  }
  // Kahn: a min-heap by FIFO order of the nodes without unmet waiting dependencies.
  using item = std::pair<std::uint64_t, std::string>;
  std::priority_queue<item, std::vector<item>, std::greater<>> zero;
  for (auto& [id, deg] : in_degree)
    if (deg == 0) zero.emplace(by_id[id]->order, id);
  std::size_t processed = 0;
  while (!zero.empty()) {
    auto [order, id] = zero.top();
    zero.pop();
    ++processed;
    // Only requests with no unmet dependency at all may start now.
    bool initially_free = true;
    for (auto& d : by_id[id]->depends_on)
      if (by_id.count(d) && !failing[d]) initially_free = false;
    if (initially_free && !blocked_outside[id]) plan.ready.push_back(id);
    for (auto& dep : dependents[id])
      if (in_degree.count(dep) && --in_degree[dep] == 0) zero.emplace(by_id[dep]->order, dep);
  }
  if (processed < in_degree.size())
    for (auto& [id, deg] : in_degree)
      if (deg > 0) plan.cycle.push_back(id);
  std::sort(plan.cycle.begin(), plan.cycle.end());
  return plan;
}

}  // namespace provisiond::actors
