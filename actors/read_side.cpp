#include "actors/read_side.hpp"

#include <chrono>

namespace provisiond::actors {

void use_read_side(engine_options& o, projections::request_summary_projection* s,
                   std::shared_ptr<events::journal> journal) {
  o.lookup_request = [s](const request_id& id) -> std::optional<events::request_state> {
    auto r = s->get(id);
    return r && *r ? std::optional<events::request_state>{std::move(**r)} : std::nullopt;
  };
  o.tenant_requests = [s](const tenant_id& tenant) {
    auto r = s->tenant_states(tenant);
    return r ? std::move(*r) : std::vector<events::request_state>{};
  };
  o.cluster_holders = [s](const cluster_id& cluster) {
    auto r = s->cluster_holders(cluster);
    return r ? std::move(*r) : std::vector<events::request_state>{};
  };
  o.sync_read_side = [s, journal] { s->wait_for(journal->last_position(), std::chrono::seconds(2)); };
}

}  // namespace provisiond::actors
