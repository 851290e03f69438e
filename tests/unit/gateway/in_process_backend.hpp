#pragma once
/// Everything `gateway::handle` needs, wired in this process the way app/
/// wires it (RocksDB journal in a temp dir, the simulation and manual
/// providers, governance, the cluster directory, the read model), with one
/// request, one approval rule and the default clusters to point routes at.

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "actors/cluster/cluster_directory.hpp"
#include "actors/engine.hpp"
#include "actors/governance/governance.hpp"
#include "actors/read_side.hpp"
#include "common/secret_box.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "gateway/api.hpp"
#include "projections/request_summary.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "providers/manual/manual_provider.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "tests/support/temp_dir.hpp"
#include "webhooks/deliveries.hpp"
#include "webhooks/registry.hpp"

namespace provisiond::testing {

struct in_process_backend {
  temp_dir dir;
  std::shared_ptr<clock> clk = make_system_clock();
  std::shared_ptr<events::rocksdb_adapter::store> store;
  std::shared_ptr<events::journal> journal;
  std::unique_ptr<projections::request_summary_projection> summaries;
  std::shared_ptr<providers::simulation::simulation_provider> sim;
  std::shared_ptr<providers::provider_registry> registry = std::make_shared<providers::provider_registry>();
  std::shared_ptr<actors::governance> governance;
  std::shared_ptr<events::secret_store> secrets;
  std::shared_ptr<actors::cluster_directory> clusters;
  std::shared_ptr<webhooks::address_guard> guard;
  std::shared_ptr<webhooks::registry> hooks;
  std::unique_ptr<webhooks::delivery_service> deliveries;
  std::unique_ptr<actors::engine> engine;
  gateway::api_backend backend;
  std::string request_id, cluster_id, rule_id, webhook_id, delivery_id;

  in_process_backend() {
    const auto cfg = default_config();
    store = *events::rocksdb_adapter::store::open(dir / "journal", durability::fast);
    journal = events::rocksdb_adapter::make_journal(store);
    summaries = std::make_unique<projections::request_summary_projection>(
        journal, projections::rocksdb_adapter::make_view_store(store));
    summaries->start();
    sim = *providers::simulation::simulation_provider::open(dir / "ledger", cfg.simulation, clk);
    registry->add(sim);
    registry->add(providers::manual::make_manual_provider());
    governance = std::make_shared<actors::governance>(journal, clk);
    (void)governance->load();
    secrets = events::rocksdb_adapter::make_secret_store(store, *secret_box::from_key_file(dir / "secret.key"));
    clusters = std::make_shared<actors::cluster_directory>(journal, clk, secrets);
    (void)clusters->load(cfg.clusters, cfg.cluster_secrets);
    guard = std::make_shared<webhooks::address_guard>(*webhooks::address_guard::make({{"127.0.0.0/8"}, {}}));
    hooks = std::make_shared<webhooks::registry>(journal, secrets, clk);
    (void)hooks->load();
    events::webhook_endpoint hook;
    hook.tenant_id = "acme";
    hook.url = "http://127.0.0.1:9/hook";  // nothing listens: every attempt fails at once
    hook.events = {"request_submitted"};
    if (auto made = hooks->create(hook)) webhook_id = made->endpoint.id;
    webhooks::delivery_options wo;
    wo.threads = 1;
    deliveries = std::make_unique<webhooks::delivery_service>(journal, projections::rocksdb_adapter::make_view_store(store),
                                                              hooks, guard, clk, wo);
    (void)deliveries->catch_up();
    deliveries->start();
    actors::engine_options o;
    o.journal = journal;
    o.time = clk;
    o.timers = make_real_timers(clk);
    o.providers = registry;
    o.rules = governance;
    o.clusters = [c = clusters] { return c->list(); };
    actors::use_read_side(o, summaries.get(), journal);
    o.provider_threads = 2;
    o.scheduler_threads = 2;
    engine = std::make_unique<actors::engine>(std::move(o));

    backend.engine = engine.get();
    backend.governance = governance.get();
    backend.clusters = clusters.get();
    backend.providers = registry.get();
    backend.secrets = secrets.get();
    backend.summaries = summaries.get();
    backend.webhooks = hooks.get();
    backend.deliveries = deliveries.get();
    backend.webhook_guard = guard.get();
    backend.history = [j = journal](const std::string& id) {
      return j->read_stream(events::stream_for_request(id), 1);
    };
    backend.journal = journal.get();
    backend.simulation_ledger = [s = sim]() -> result<std::string> {
      auto l = s->ledger();
      if (!l) return l.error();
      return providers::simulation::ledger_to_json(*l);
    };
    backend.ready = [] { return true; };
    backend.system_info = [] { return std::string("{\"service\":\"provisiond\"}"); };

    actors::submit_command c;
    c.spec = events::request_submitted{"acme", "order-1", "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "", {}};
    auto submitted = engine->submit(c);
    if (submitted) {
      request_id = submitted->request_id.str();
      summaries->wait_for(submitted->position, std::chrono::seconds(5));
    }
    cluster_id = cfg.clusters.at(0).id;
    for (int i = 0; i < 500 && delivery_id.empty(); ++i) {
      auto page = deliveries->list(webhook_id, "", "", 1);
      if (page && !page->items.empty()) delivery_id = page->items[0].id;
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    events::approval_rule rule;
    rule.name = "big machines";
    rule.enabled = false;
    rule.conditions.min_cpu = 64;
    if (auto saved = governance->create_rule(rule)) rule_id = saved->id;
  }

  ~in_process_backend() {
    engine->shutdown(std::chrono::seconds(1));
    engine.reset();
    deliveries->stop();
    summaries->stop();
  }
};

}  // namespace provisiond::testing
