#include "actors/governance/governance.hpp"

#include "events/codec.hpp"

namespace provisiond::actors {

namespace ev = provisiond::events;

namespace {
const std::string quotas_stream = "tenant-quotas";
const std::string rules_stream = "approval-rules";
}  // namespace

governance::governance(std::shared_ptr<ev::journal> journal, std::shared_ptr<clock> time)
    : journal_(std::move(journal)), clock_(std::move(time)) {}

status governance::load() {
  std::lock_guard lock{mutex_};
  for (auto* stream : {&quotas_stream, &rules_stream}) {
    auto evs = journal_->read_stream(*stream, 1);
    if (!evs) return evs.error();
    for (auto& env : *evs) {
      auto e = ev::decode(env);
      if (!e) return e.error();
      if (auto* q = std::get_if<ev::quota_set>(&*e)) quotas_[q->tenant_id] = q->limits;
      if (auto* r = std::get_if<ev::approval_rule_saved>(&*e)) {
        auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == r->rule.id; });
        if (it == rules_.end()) rules_.push_back(r->rule);
        else *it = r->rule;
      }
      if (auto* d = std::get_if<ev::approval_rule_deleted>(&*e))
        std::erase_if(rules_, [&](auto& x) { return x.id == d->rule_id; });
    }
    (*stream == quotas_stream ? quotas_version_ : rules_version_) = evs->empty() ? 0 : evs->back().sequence;
  }
  return ok();
}

status governance::append(const std::string& stream, std::uint64_t& version, const ev::event& e) {
  ev::append_request req;
  req.stream = stream;
  req.expected_sequence = version;
  req.events.push_back(ev::make_pending(e, clock_->now()));
  req.to_outbox = false;  // admin streams are not request events
  auto r = journal_->append(std::move(req));
  if (!r) return r.error();
  version = r->last_sequence;
  return ok();
}

result<ev::quota_amount> governance::set_quota(const std::string& tenant_id, const ev::quota_amount& limits) {
  std::lock_guard lock{mutex_};
  auto st = append(quotas_stream, quotas_version_, ev::quota_set{tenant_id, limits});
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
  if (rule.id.empty()) rule.id = "rule-" + std::to_string(rules_version_ + 1);
  if (std::any_of(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == rule.id; }))
    return make_error(errc::conflict, "approval rule " + rule.id + " already exists", "id");
  rule.created_at = clock_->now();
  auto st = append(rules_stream, rules_version_, ev::approval_rule_saved{rule});
  if (!st) return st.error();
  rules_.push_back(rule);
  return rule;
}

result<ev::approval_rule> governance::update_rule(ev::approval_rule rule) {
  std::lock_guard lock{mutex_};
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == rule.id; });
  if (it == rules_.end()) return make_error(errc::not_found, "no approval rule " + rule.id);
  rule.created_at = it->created_at;
  auto st = append(rules_stream, rules_version_, ev::approval_rule_saved{rule});
  if (!st) return st.error();
  *it = rule;
  return rule;
}

status governance::delete_rule(const std::string& id) {
  std::lock_guard lock{mutex_};
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](auto& x) { return x.id == id; });
  if (it == rules_.end()) return make_error(errc::not_found, "no approval rule " + id);
  auto st = append(rules_stream, rules_version_, ev::approval_rule_deleted{id});
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
