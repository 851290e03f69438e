#pragma once
/// The simulation provider: the reference implementation of the provider
/// interface. Fault injection per step (retryable, permanent, "created but
/// the response was lost"), seeded per call, delays, fake resources with
/// provider-like endpoints, and a persistent ledger of what is allocated.

#include <memory>
#include <string>
#include <vector>

#include "common/settings.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::simulation {

/// One live simulated resource.
struct ledger_entry {
  std::string resource_id;
  std::string request_id;
  events::step_kind step = events::step_kind::allocate;
  std::string kind;
  std::string cluster_id;
  std::string idempotency_key;
  time_ms created_at = 0;
  events::string_map attributes;
};

class simulation_provider : public provider {
 public:
  /// Opens (or creates) the ledger database in `ledger_dir`.
  static result<std::shared_ptr<simulation_provider>> open(const std::string& ledger_dir, simulation_config cfg,
                                                           std::shared_ptr<clock> clk);
  /// Every live resource, in (request, step) order.
  virtual result<std::vector<ledger_entry>> ledger() = 0;
};

/// Ledger entries as the JSON array served at GET /v1/simulation/ledger.
std::string ledger_to_json(const std::vector<ledger_entry>& entries);

}  // namespace provisiond::providers::simulation
