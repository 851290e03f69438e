#include "actors/tenant/admission_book.hpp"

#include <algorithm>

namespace provisiond::actors {

void admission_book::restore(const events::request_state& r) {
  states_[r.id] = r.state;
  if (r.quota_held) reserved_[r.id] = r.reserved;
  if (events::holds_slot(r)) slots_.insert(r.id);
}

std::vector<admission_book::waiter>::iterator admission_book::find(const std::string& id) {
  return std::find_if(waiting_.begin(), waiting_.end(), [&](auto& w) { return w.w.id == id; });
}

void admission_book::enqueue(waiter w) {
  waiting_.push_back(std::move(w));
  std::sort(waiting_.begin(), waiting_.end(), [](auto& a, auto& b) { return a.w.order < b.w.order; });
}

admission_decision admission_book::reserve(const std::string& id, const events::request_submitted& spec,
                                           std::uint64_t order, const quota_amount& limits,
                                           const std::vector<approval_rule>& rules, time_ms now) {
  states_[id] = events::lifecycle::queued;
  admission_decision d;
  if (!reserved_.count(id)) {
    auto demand = demand_of(spec);
    auto violations = check_quota(limits, used(), demand);
    if (!violations.empty()) {
      d.kind = admission_decision::exceed;
      d.violations = std::move(violations);
      return d;
    }
    reserved_[id] = demand;
  }
  d.kind = admission_decision::reserve;
  d.amount = reserved_[id];
  if (auto match = match_approval(rules, spec.tenant_id, spec))
    d.approval = events::approval_requested{match->rule.id, match->rule.name, match->rule.priority, match->matched};
  if (!d.approval && find(id) == waiting_.end()) enqueue({waiting_request{id, order, spec.depends_on}, false, now});
  return d;
}

std::optional<admission_decision> admission_book::ask_slot(const std::string& id, std::uint64_t order,
                                                           const std::vector<std::string>& depends_on, time_ms now) {
  states_[id] = events::lifecycle::queued;
  if (slots_.count(id)) {
    admission_decision d;
    d.kind = admission_decision::admit;
    return d;
  }
  std::erase_if(waiting_, [&](auto& w) { return w.w.id == id; });
  enqueue({waiting_request{id, order, depends_on}, true, now});
  return std::nullopt;
}

void admission_book::record(const std::string& id, events::lifecycle state, bool quota_held,
                            const quota_amount& reserved, bool holds_slot) {
  states_[id] = state;
  // A placeholder whose request will not ask (gated, failed) is dropped.
  if (state != events::lifecycle::queued) std::erase_if(waiting_, [&](auto& w) { return w.w.id == id && !w.asking; });
  if (quota_held)
    reserved_[id] = reserved;
  else
    reserved_.erase(id);
  if (holds_slot)
    slots_.insert(id);
  else
    slots_.erase(id);
}

admission_book::pumped admission_book::pump(time_ms now, const lookup_fn& lookup) {
  pumped out;
  if (waiting_.empty()) return out;
  std::vector<waiting_request> ws;
  for (auto& w : waiting_) ws.push_back(w.w);
  auto plan = plan_admission(ws, [&](const std::string& id) -> std::optional<events::lifecycle> {
    if (auto it = states_.find(id); it != states_.end()) return it->second;
    if (!lookup) return std::nullopt;
    auto s = lookup(id);
    // Only terminal states are stable enough to remember here.
    if (s && is_terminal(*s)) states_[id] = *s;
    return s;
  });
  // Placeholders are answered when their request asks; a failure is remembered by state.
  auto answer = [&](const std::string& id, admission_decision d) {
    auto it = find(id);
    if (it == waiting_.end() || !it->asking) return;
    waiting_.erase(it);
    out.answers.emplace_back(id, std::move(d));
  };
  auto failed = [](std::string dependency) {
    admission_decision d;
    d.kind = admission_decision::dependency_failed;
    d.dependency = std::move(dependency);
    return d;
  };
  for (auto& [id, dep] : plan.dependency_failed) answer(id, failed(dep));
  for (auto& id : plan.cycle) answer(id, failed("cycle"));
  for (auto& id : plan.ready) {
    if (static_cast<int>(slots_.size()) >= max_in_flight_) break;
    auto it = find(id);
    if (it == waiting_.end()) continue;
    if (!it->asking) {
      // Hold the line for an earlier request about to ask, but not forever.
      auto age = now - it->since;
      if (age < placeholder_grace_ms) {
        out.look_again_at = it->since + placeholder_grace_ms + 1;
        break;
      }
      continue;
    }
    slots_.insert(id);
    admission_decision d;
    d.kind = admission_decision::admit;
    answer(id, d);
  }
  return out;
}

std::vector<std::string> admission_book::drop_asking() {
  std::vector<std::string> ids;
  for (auto& w : waiting_)
    if (w.asking) ids.push_back(w.w.id);
  std::erase_if(waiting_, [](auto& w) { return w.asking; });
  return ids;
}

quota_amount admission_book::used() const {
  quota_amount u;
  for (auto& [id, a] : reserved_) u = add(u, a);
  return u;
}

std::size_t admission_book::asking() const {
  return static_cast<std::size_t>(std::count_if(waiting_.begin(), waiting_.end(), [](auto& w) { return w.asking; }));
}

std::vector<std::string> dependency_cycle(
    const request_id& new_id, const std::vector<std::string>& depends_on,
    const std::function<std::optional<events::request_state>(const request_id&)>& lookup) {
  std::vector<waiting_request> graph{{new_id.str(), 0, depends_on}};
  std::vector<std::string> frontier = depends_on;
  std::unordered_set<std::string> seen{new_id.str()};
  while (!frontier.empty() && graph.size() < 1000) {
    auto id = frontier.back();
    frontier.pop_back();
    if (!seen.insert(id).second || !lookup) continue;
    auto r = lookup(request_id{id});
    if (!r || is_terminal(r->state)) continue;
    graph.push_back({id, graph.size(), r->spec.depends_on});
    for (auto& d : r->spec.depends_on) frontier.push_back(d);
  }
  return plan_admission(graph, [](const std::string&) { return std::nullopt; }).cycle;
}

}  // namespace provisiond::actors
