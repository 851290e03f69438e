#include "actors/cluster/capacity_book.hpp"

#include "actors/cluster/cluster_logic.hpp"

namespace provisiond::actors {

void capacity_book::hold(const std::string& request_id, const cluster_capacity& amount) {
  if (holders_.emplace(request_id, amount).second) used_ += amount;
}

std::string capacity_book::reserve(const std::string& request_id, const cluster_capacity& want,
                                   const std::optional<cluster_config>& cluster) {
  if (holders_.count(request_id)) return {};
  if (!cluster) return "cluster was deleted";
  if (auto why = not_accepting(*cluster); !why.empty()) return why;
  if (auto why = shortfall(cluster->capacity, used_, want); !why.empty()) return why;
  hold(request_id, want);
  return {};
}

void capacity_book::release(const std::string& request_id) {
  auto it = holders_.find(request_id);
  if (it == holders_.end()) return;
  used_ -= it->second;
  holders_.erase(it);
}

std::string placement_reason(const std::string& cluster_id, bool is_default, const events::request_submitted& spec,
                             const std::vector<std::string>& skipped) {
  auto reason = cluster_id + (is_default ? " is the default " : " is the first ") + spec.provider + " cluster in " +
                spec.region + (is_default ? "" : " with room");
  if (!skipped.empty()) {
    reason += " (skipped: ";
    for (std::size_t k = 0; k < skipped.size(); ++k) reason += (k ? "; " : "") + skipped[k];
    reason += ")";
  }
  return reason;
}

}  // namespace provisiond::actors
