#include "fuzz/backend.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <string>

#include "actors/cluster/cluster_directory.hpp"
#include "actors/engine.hpp"
#include "actors/governance/governance.hpp"
#include "actors/read_side.hpp"
#include "app/config.hpp"
#include "common/log.hpp"
#include "common/secret_box.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "projections/request_summary.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "providers/manual/manual_provider.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "webhooks/deliveries.hpp"
#include "webhooks/registry.hpp"

namespace provisiond::fuzz {

namespace {

namespace fs = std::filesystem;

// A fresh directory under the temp dir, removed with the backend.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("provisiond-fuzz-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const char* sub) const { return (path / sub).string(); }
};

// Millions of inputs would write millions of log lines.
void silence_logs() {
  static const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  auto s = log::current();
  s.err_fd = null_fd;
  s.out_fd = null_fd;
  log::configure(s);
}

// Never destroyed at exit: the backend's threads and CAF's statics cannot
// be torn down in static-destruction order (release() does it in order).
std::unique_ptr<fuzz_backend>& current() {
  static auto* b = new std::unique_ptr<fuzz_backend>();
  return *b;
}

}  // namespace

// Declaration order is teardown order reversed: the engine goes first.
struct backend_parts {
  scratch_dir dir;
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
  gateway::api_backend api;
  std::string webhook_id, cluster_id;

  void open_storage(const config& cfg) {
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
    cluster_id = cfg.clusters.at(0).id;
  }

  void open_webhooks() {
    guard = std::make_shared<webhooks::address_guard>(*webhooks::address_guard::make({{"127.0.0.0/8"}, {}}));
    hooks = std::make_shared<webhooks::registry>(journal, secrets, clk);
    (void)hooks->load();
    events::webhook_endpoint hook;
    hook.tenant_id = fuzz_tenant;
    hook.url = "http://127.0.0.1:9/hook";
    hook.events = {"request_submitted"};
    if (auto made = hooks->create(hook)) webhook_id = made->endpoint.id;
    webhooks::delivery_options wo;
    wo.threads = 1;
    deliveries = std::make_unique<webhooks::delivery_service>(
        journal, projections::rocksdb_adapter::make_view_store(store), hooks, guard, clk, wo);
    (void)deliveries->catch_up();  // never start(): nothing is sent
  }

  void start_engine() {
    actors::engine_options o;
    o.journal = journal;
    o.time = clk;
    o.timers = make_real_timers(clk);
    o.providers = registry;
    o.rules = governance;
    o.clusters = [c = clusters] { return c->list(); };
    actors::use_read_side(o, summaries.get(), journal);
    o.provider_threads = 1;
    o.scheduler_threads = 1;
    engine = std::make_unique<actors::engine>(std::move(o));
  }

  void wire_api() {
    api.engine = engine.get();
    api.governance = governance.get();
    api.clusters = clusters.get();
    api.providers = registry.get();
    api.secrets = secrets.get();
    api.summaries = summaries.get();
    api.webhooks = hooks.get();
    api.deliveries = deliveries.get();
    api.webhook_guard = guard.get();
    api.history = [j = journal](const std::string& id) { return j->read_stream(events::stream_for_request(id), 1); };
    api.journal = journal.get();
    api.simulation_ledger = [s = sim]() -> result<std::string> {
      auto l = s->ledger();
      if (!l) return l.error();
      return providers::simulation::ledger_to_json(*l);
    };
    api.ready = [] { return true; };
    api.system_info = [] { return std::string("{\"service\":\"provisiond\"}"); };
  }

  void seed_objects() {
    actors::submit_command c;
    c.spec = events::request_submitted{fuzz_tenant, "order-1", "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "",
                                       {}};
    c.request_id = request_id{fuzz_request_id};
    if (auto submitted = engine->submit(c)) summaries->wait_for(submitted->position, std::chrono::seconds(5));
    events::approval_rule rule;
    rule.id = fuzz_rule_id;
    rule.name = "big machines";
    rule.enabled = false;
    rule.conditions.min_cpu = 64;
    (void)governance->create_rule(rule);
  }

  backend_parts() {
    silence_logs();
    const auto cfg = default_config();
    open_storage(cfg);
    open_webhooks();
    start_engine();
    wire_api();
    seed_objects();
  }

  ~backend_parts() {
    engine->shutdown(std::chrono::seconds(1));
    engine.reset();
    deliveries.reset();
    summaries->stop();
  }
};

fuzz_backend::fuzz_backend() : parts_(std::make_unique<backend_parts>()) {}
fuzz_backend::~fuzz_backend() = default;

fuzz_backend& fuzz_backend::get() {
  auto& b = current();
  // PROVISIOND_FUZZ_REBUILD_AFTER overrides rebuild_after (1: a fresh
  // backend after every write, to exercise teardown).
  static const int limit = [] {
    const char* v = std::getenv("PROVISIOND_FUZZ_REBUILD_AFTER");
    return v && std::atoi(v) > 0 ? std::atoi(v) : rebuild_after;
  }();
  if (b && b->writes_ >= limit) b.reset();
  if (!b) b.reset(new fuzz_backend());
  return *b;
}

void fuzz_backend::release() { current().reset(); }

const gateway::api_backend& fuzz_backend::api() const { return parts_->api; }
const std::string& fuzz_backend::webhook_id() const { return parts_->webhook_id; }
const std::string& fuzz_backend::cluster_id() const { return parts_->cluster_id; }

void release_backend() { fuzz_backend::release(); }
bool abandon_backend() {
  auto& b = current();
  if (!b) return false;
  std::error_code ec;
  fs::remove_all(b->parts_->dir.path, ec);
  return true;
}

}  // namespace provisiond::fuzz
