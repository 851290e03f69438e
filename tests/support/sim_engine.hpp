#pragma once
/// An in-process engine on a RocksDB journal and the simulation provider,
/// with the real clock: shared by tests and benchmarks.

#include <memory>
#include <string>

#include "app/config.hpp"
#include "actors/engine.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "providers/simulation/simulation_provider.hpp"

namespace provisiond::testing {

struct sim_engine {
  std::shared_ptr<events::rocksdb_adapter::store> store;
  std::shared_ptr<events::journal> journal;
  std::shared_ptr<providers::simulation::simulation_provider> sim;
  std::unique_ptr<actors::engine> engine;

  sim_engine(const std::string& dir, durability mode, simulation_config cfg, int provider_threads = 16) {
    store = *events::rocksdb_adapter::store::open(dir + "/journal", mode);
    journal = events::rocksdb_adapter::make_journal(store);
    auto clk = make_system_clock();
    sim = *providers::simulation::simulation_provider::open(dir + "/ledger", cfg, clk);
    auto reg = std::make_shared<providers::provider_registry>();
    reg->add(sim);
    actors::engine_options o;
    o.journal = journal;
    o.time = clk;
    o.timers = make_real_timers(clk);
    o.providers = reg;
    o.clusters = [clusters = default_config().clusters] { return clusters; };
    o.provider_threads = provider_threads;
    engine = std::make_unique<actors::engine>(std::move(o));
  }
};

}  // namespace provisiond::testing
