#include "actors/governance/governance.hpp"

#include "events/codec.hpp"

namespace provisiond::actors {

namespace ev = provisiond::events;

governance::governance(std::shared_ptr<ev::journal> journal, std::shared_ptr<clock> time)
    : clock_(std::move(time)), quotas_stream_(journal, ev::quotas_stream), rules_stream_(journal, ev::rules_stream) {}

void governance::fold(const ev::event& e) {
  if (auto* q = std::get_if<ev::quota_set>(&e)) quotas_[q->tenant_id] = q->limits;
  if (auto* r = std::get_if<ev::approval_rule_saved>(&e)) {
    auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == r->rule.id; });
    if (it == rules_.end()) rules_.push_back(r->rule);
    else *it = r->rule;
  }
  if (auto* d = std::get_if<ev::approval_rule_deleted>(&e))
    std::erase_if(rules_, [&](auto& x) { return x.id == d->rule_id; });
}

status governance::refresh_locked() {
  for (auto* stream : {&quotas_stream_, &rules_stream_}) {
    auto evs = stream->unread();
    if (!evs) return evs.error();
    for (auto& e : *evs) fold(e);
  }
  return ok();
}

status governance::load() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

status governance::refresh() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

void governance::share(std::function<std::optional<std::uint64_t>()> token) {
  std::lock_guard lock{mutex_};
  quotas_stream_.share(token);
  rules_stream_.share(std::move(token));
}

result<ev::quota_amount> governance::set_quota(const std::string& tenant_id, const ev::quota_amount& limits) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  auto st = quotas_stream_.append(ev::quota_set{tenant_id, limits}, clock_->now());
  if (!st) return st.error();
  quotas_[tenant_id] = limits;
  return limits;
}

std::optional<ev::quota_amount> governance::quota(const std::string& tenant_id) const {
  std::lock_guard lock{mutex_};
  auto it = quotas_.find(tenant_id);
  if (it == quotas_.end()) return std::nullopt;
  return it->second;
}

result<ev::approval_rule> governance::create_rule(ev::approval_rule rule) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  if (rule.id.empty()) rule.id = "rule-" + std::to_string(rules_stream_.version() + 1);
  if (std::any_of(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == rule.id; }))
    return make_error(errc::conflict, "approval rule " + rule.id + " already exists", "id");
  rule.created_at = clock_->now();
  auto st = rules_stream_.append(ev::approval_rule_saved{rule}, clock_->now());
  if (!st) return st.error();
  rules_.push_back(rule);
  return rule;
}

result<ev::approval_rule> governance::update_rule(ev::approval_rule rule) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == rule.id; });
  if (it == rules_.end()) return make_error(errc::not_found, "no approval rule " + rule.id);
  rule.created_at = it->created_at;
  auto st = rules_stream_.append(ev::approval_rule_saved{rule}, clock_->now());
  if (!st) return st.error();
  *it = rule;
  return rule;
}

status governance::delete_rule(const std::string& id) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st;
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == id; });
  if (it == rules_.end()) return make_error(errc::not_found, "no approval rule " + id);
  auto st = rules_stream_.append(ev::approval_rule_deleted{id}, clock_->now());
  if (!st) return st;
  rules_.erase(it);
  return ok();
}

std::vector<ev::approval_rule> governance::rules() const {
  std::lock_guard lock{mutex_};
  return rules_;
}

std::optional<ev::approval_rule> governance::rule(const std::string& id) const {
  std::lock_guard lock{mutex_};
  for (auto& r : rules_)
    if (r.id == id) return r;
  return std::nullopt;
}

}  // namespace provisiond::actors
