// provisiond: the one place that wires concrete backends together.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <unistd.h>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/cluster/cluster_directory.hpp"
#include "actors/engine.hpp"
#include "actors/governance/governance.hpp"
#include "actors/read_side.hpp"
#include "common/log.hpp"
#include "common/secret_box.hpp"
#include "app/audit_command.hpp"
#include "app/config.hpp"
#include "app/scale_out.hpp"
#include "app/signals.hpp"
#include "app/sim_cloud.hpp"
#include "common/metrics.hpp"
#include "events/codec.hpp"
#include "events/kafka/kafka.hpp"
#include "events/kafka/secret_replica.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "gateway/api.hpp"
#include "gateway/http_server.hpp"
#include "gateway/kafka_intake.hpp"
#include "projections/request_summary.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "providers/kubernetes/kubernetes_provider.hpp"
#include "providers/manual/manual_provider.hpp"
#include "providers/openstack/openstack_provider.hpp"
#include "providers/vmware/vmware_provider.hpp"
#include "auth/authenticator.hpp"
#include "auth/jwks_fetch.hpp"
#include "providers/proxmox/proxmox_provider.hpp"
#include "providers/simulation/remote_simulation_provider.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "webhooks/deliveries.hpp"
#include "webhooks/registry.hpp"

using namespace provisiond;

namespace {

const char* usage =
    "usage: provisiond [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--durability durable|fast]\n"
    "                  [--log-format text|json]\n"
    "       provisiond history REQUEST_ID [--at SEQ] [--data-dir DIR]\n"
    "                                       print a request's events and its state after them (audit)\n"
    "       provisiond audit verify [--request ID] [--data-dir DIR] [--config FILE]\n"
    "                                       check the journal's hash chains (every one, or one request's)\n"
    "                                       and signed checkpoints; names the first broken link, exit 1\n"
    "       provisiond kafka-dev [--config FILE] [--partitions N]\n"
    "                                       run only the embedded Kafka (mock cluster; N partitions per topic, 4)\n"
    "       provisiond sim-cloud [--config FILE] [--listen HOST:PORT] [--data-dir DIR]\n"
    "                                       serve one simulated cloud (the config's `simulation` faults,\n"
    "                                       ledger in DIR/simulation-ledger) to instances whose config\n"
    "                                       sets simulation.cloudUrl; listens on 127.0.0.1:0 unless told,\n"
    "                                       prints SIM_CLOUD=http://HOST:PORT; no authentication\n"
    "\n"
    "With no arguments: data in ./var/provisiond, HTTP on 127.0.0.1:8080, simulation\n"
    "clusters in eu-west-1 and us-east-1, an embedded Kafka (librdkafka mock cluster).\n"
    "Flags override the config file. --log-format json (any command) writes one JSON object per\n"
    "log line (time, level, message, ids); text, the default, the lines as they always were.\n";

int fail(const error& e) {
  log::error((e.field.empty() ? "" : e.field + ": ") + e.message, log::fields{}.with("code", to_string(e.code)));
  return 2;
}

struct options {
  config cfg = default_config();
  std::string command;
  std::string request_id;
  std::uint64_t at = UINT64_MAX;  ///< history: show the state after this event
};

result<options> parse_args(int argc, char** argv) {
  options o;
  std::string config_file, data_dir, listen, durability_flag, at, partitions, log_format;
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') {
    o.command = argv[1];
    if (o.command == "history") {
      if (argc < 3) return make_error(errc::invalid_argument, "expected a request id", "history");
      o.request_id = argv[2];
      i = 3;
    } else if (o.command == "audit") {
      if (argc < 3 || std::string(argv[2]) != "verify")
        return make_error(errc::invalid_argument, "expected `audit verify`", "audit");
      i = 3;
    } else if (o.command == "kafka-dev" || o.command == "sim-cloud") {
      i = 2;
    } else {
      return make_error(errc::invalid_argument, "unknown command; expected history, audit, kafka-dev or sim-cloud",
                        o.command);
    }
  }
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) -> bool {
      if (auto eq = a.find('='); eq != std::string::npos) {
        out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    auto name = a.substr(0, a.find('='));
    bool okv = true;
    if (name == "--config") okv = value(config_file);
    else if (name == "--data-dir") okv = value(data_dir);
    else if (name == "--listen") okv = value(listen);
    else if (name == "--durability") okv = value(durability_flag);
    else if (name == "--log-format") okv = value(log_format);
    else if (name == "--at" && o.command == "history") okv = value(at);
    else if (name == "--request" && o.command == "audit") okv = value(o.request_id);
    else if (name == "--partitions" && o.command == "kafka-dev") okv = value(partitions);
    else if (name == "--help" || name == "-h") return make_error(errc::unsupported, usage);
    else return make_error(errc::invalid_argument, std::string("unknown flag\n") + usage, a);
    if (!okv) return make_error(errc::invalid_argument, "expected a value", name);
  }
  if (!config_file.empty()) {
    auto c = load_config_file(config_file, o.cfg);
    if (!c) return c.error();
    o.cfg = std::move(*c);
  }
  if (!log_format.empty()) {
    auto f = log::parse_format(log_format, "--log-format");
    if (!f) return f.error();
    o.cfg.log_format = *f;
  }
  if (!data_dir.empty()) o.cfg.data_dir = data_dir;
  if (listen.empty() && o.command == "sim-cloud") {
    o.cfg.listen_host = "127.0.0.1";  // the config's `listen` is the instance's, not the sim-cloud's
    o.cfg.listen_port = 0;
  } else if (!listen.empty()) {
    auto hp = parse_host_port(listen, "--listen");
    if (!hp) return hp.error();
    o.cfg.listen_host = hp->first;
    o.cfg.listen_port = hp->second;
  }
  if (!at.empty()) {
    if (at.find_first_not_of("0123456789") != std::string::npos || at.size() > 12 || std::stoull(at) == 0)
      return make_error(errc::invalid_argument, "expected an event sequence number (1, 2, ...)", "--at");
    o.at = std::stoull(at);
  }
  if (!partitions.empty()) {
    if (partitions.find_first_not_of("0123456789") != std::string::npos || partitions.size() > 3 ||
        std::stoi(partitions) < 1)
      return make_error(errc::invalid_argument, "expected a partition count (1-999)", "--partitions");
    o.cfg.dev_partitions = std::stoi(partitions);
  }
  if (!durability_flag.empty()) {
    if (durability_flag == "durable") o.cfg.journal_durability = durability::durable;
    else if (durability_flag == "fast") o.cfg.journal_durability = durability::fast;
    else return make_error(errc::invalid_argument, "expected durable or fast", "--durability");
  }
  return o;
}

int history(const options& o) {
  auto store = events::rocksdb_adapter::store::open(o.cfg.data_dir + "/journal", o.cfg.journal_durability);
  if (!store) return fail(store.error());
  auto journal = events::rocksdb_adapter::make_journal(*store);
  auto evs = journal->read_stream(events::stream_for_request(o.request_id), 1);
  if (!evs) return fail(evs.error());
  if (evs->empty()) return fail(make_error(errc::not_found, "no events for request " + o.request_id));
  events::request_state state;
  state.id = o.request_id;
  for (auto& e : *evs) {
    if (e.sequence > o.at) break;
    std::printf("%s  #%llu  %-20s %s\n", format_time(e.time).c_str(), static_cast<unsigned long long>(e.sequence),
                e.type.c_str(), e.payload.c_str());
    auto decoded = events::decode(e);
    if (!decoded) return fail(decoded.error());
    events::apply_in_place(state, *decoded, e.time);
  }
  std::printf("state after #%llu: %s\n", static_cast<unsigned long long>(state.version),
              projections::render_request(state).c_str());
  return 0;
}

std::vector<std::string> all_topics(const kafka_config& k) {
  auto topics = events::kafka::event_topics(k);
  topics.push_back(events::kafka::secrets_topic(k));
  topics.push_back(k.commands_topic);
  topics.push_back(events::kafka::dlq_topic(k));
  return topics;
}

// Only the mock cluster, for tests and several local processes to share.
int kafka_dev(const options& o) {
  auto signals = app::block_signals();
  auto mock = events::kafka::mock_cluster::start(3, all_topics(o.cfg.kafka), o.cfg.dev_partitions);
  if (!mock) return fail(mock.error());
  std::printf("BOOTSTRAP=%s\n", (*mock)->bootstrap().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}

// --log-format before the arguments are parsed, so that even an error in
// them (or in the config file) is written as asked.
void early_log_format(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v = a.rfind("--log-format=", 0) == 0 ? a.substr(13) : a == "--log-format" && i + 1 < argc ? argv[i + 1] : "";
    if (auto f = log::parse_format(v, "--log-format")) log::configure({*f});
  }
}

}  // namespace

int main(int argc, char** argv) {
  early_log_format(argc, argv);
  auto parsed = parse_args(argc, argv);
  if (!parsed) {
    if (parsed.error().code == errc::unsupported) {
      std::fputs(parsed.error().message.c_str(), stdout);
      return 0;
    }
    return fail(parsed.error());
  }
  auto& o = *parsed;
  // Once, before any other thread starts: every module logs through this.
  log::configure({o.cfg.log_format, o.command == "sim-cloud" ? "provisiond sim-cloud" : "provisiond"});
  if (o.command == "history") return history(o);
  if (o.command == "audit") return app::audit_verify(o.cfg, o.request_id);
  if (o.command == "kafka-dev") return kafka_dev(o);
  if (o.command == "sim-cloud")
    return run_sim_cloud(o.cfg.listen_host, o.cfg.listen_port, o.cfg.data_dir, o.cfg.simulation);
  const auto& cfg = o.cfg;

  // Signals are taken by sigwait below; every thread created later inherits the mask.
  auto signals = app::block_signals();

  auto clk = make_system_clock();
  auto store = events::rocksdb_adapter::store::open(cfg.data_dir + "/journal", cfg.journal_durability);
  if (!store) return fail(store.error());
  // The journal signs checkpoints with this key (created 0600 on first start).
  auto checkpoint_key = events::load_checkpoint_key(app::checkpoint_key_path(cfg), true, "audit.checkpointKeyFile");
  if (!checkpoint_key) return fail(checkpoint_key.error());
  const events::rocksdb_adapter::journal_options journal_options{cfg.audit.checkpoint_every, *checkpoint_key};
  auto journal = events::rocksdb_adapter::make_journal(*store, journal_options);
  if (!cfg.redis_url.empty()) {
    // Scaled out, events still in the outbox at start were never on Kafka:
    // this instance stopped without publishing them (kill -9, Kafka down).
    // Nobody was told of them, and their partitions have moved on without
    // them, so the local journal may disagree with the changelog. It is set
    // aside and rebuilt from the changelog, like a new instance's.
    auto pending = journal->read_outbox(0, 1);
    if (!pending) return fail(pending.error());
    if (!pending->empty()) {
      journal.reset();
      store->reset();
      auto aside = cfg.data_dir + "/journal.unpublished-" + std::to_string(clk->now());
      std::error_code ec;
      std::filesystem::rename(cfg.data_dir + "/journal", aside, ec);
      if (ec) return fail(make_error(errc::unavailable, "cannot set the journal aside: " + ec.message(), "dataDir"));
      std::filesystem::remove(cfg.data_dir + "/replica-offsets", ec);
      log::warn("the journal held events never published to Kafka (an unclean stop); set aside as " + aside +
                ", restoring from the changelog");
      store = events::rocksdb_adapter::store::open(cfg.data_dir + "/journal", cfg.journal_durability);
      if (!store) return fail(store.error());
      journal = events::rocksdb_adapter::make_journal(*store, journal_options);
    }
  }
  auto summaries = std::make_unique<projections::request_summary_projection>(
      journal, projections::rocksdb_adapter::make_view_store(*store));
  if (auto st = summaries->catch_up(); !st) return fail(st.error());
  summaries->start();

  // simulation.cloudUrl: a sim-cloud shared with other instances holds the
  // ledger and the faults; otherwise they are this process's own.
  std::shared_ptr<providers::simulation::simulation_provider> sim;
  if (!cfg.simulation_cloud_url.empty()) {
    sim = providers::simulation::make_remote_simulation_provider(cfg.simulation_cloud_url, clk);
  } else {
    auto local =
        providers::simulation::simulation_provider::open(cfg.data_dir + "/simulation-ledger", cfg.simulation, clk);
    if (!local) return fail(local.error());
    sim = *local;
  }
  auto registry = std::make_shared<providers::provider_registry>();
  registry->add(sim);
  registry->add(providers::manual::make_manual_provider());

  // Several instances (redis.url): the changelog is restored before anything
  // runs; partitions are then driven as the consumer group assigns them.
  std::unique_ptr<app::scale_out> scale;
  if (!cfg.redis_url.empty()) {
    if (!cfg.kafka.enabled || cfg.kafka.bootstrap.empty())
      return fail(make_error(errc::invalid_argument, "instances share the work over Kafka: set kafka.bootstrap too",
                             "redis.url"));
    char host[256] = "provisiond";
    ::gethostname(host, sizeof host - 1);
    app::scale_out_settings ss;
    ss.instance_id = cfg.instance_id.empty() ? std::string(host) + "-" + std::to_string(::getpid()) : cfg.instance_id;
    ss.redis_url = cfg.redis_url;
    ss.lease_ttl_ms = cfg.lease_ttl_ms;
    ss.grace_ms = cfg.shutdown_grace_ms;
    ss.max_forwarding = std::max(1, cfg.http_threads - 1);
    auto s = app::scale_out::open(ss, cfg.kafka.bootstrap, cfg.kafka, journal, summaries.get(), cfg.data_dir);
    if (!s) return fail(s.error());
    scale = std::move(*s);
  }

  auto governance = std::make_shared<actors::governance>(journal, clk);
  if (scale) governance->share(scale->admin_token());
  if (auto st = governance->load(); !st) return fail(st.error());

  auto box = secret_box::from_key_file(cfg.secret_key_file.empty() ? cfg.data_dir + "/secret.key" : cfg.secret_key_file);
  if (!box) return fail(box.error());
  std::shared_ptr<events::secret_store> secrets = events::rocksdb_adapter::make_secret_store(*store, *box);
  if (scale) {
    // Every instance needs every secret: sealed on provisioning.secrets.
    auto shared = std::make_shared<events::kafka::secret_replica>(secrets, *box, cfg.kafka.bootstrap, cfg.kafka);
    if (auto st = shared->start(std::chrono::seconds(60)); !st) return fail(st.error());
    secrets = shared;
  }
  auto clusters = std::make_shared<actors::cluster_directory>(journal, clk, secrets);
  if (scale) clusters->share(scale->admin_token());
  if (auto st = clusters->load(cfg.clusters, cfg.cluster_secrets); !st) return fail(st.error());
  // Tenant webhooks: endpoints (admin state), deliveries driven by the journal.
  auto guard = webhooks::address_guard::make({cfg.webhooks.allow, cfg.webhooks.hosts});
  if (!guard) return fail(guard.error());
  auto webhook_guard = std::make_shared<webhooks::address_guard>(std::move(*guard));
  auto hooks = std::make_shared<webhooks::registry>(journal, secrets, clk);
  if (scale) hooks->share(scale->admin_token());
  if (auto st = hooks->load(); !st) return fail(st.error());
  // Who may call: API keys (admin stream), the bootstrap admin key, OIDC tokens, client certificates.
  auto api_keys = std::make_shared<auth::api_key_store>(journal, clk);
  if (scale) api_keys->share(scale->admin_token());
  if (auto st = api_keys->load(); !st) return fail(st.error());
  std::string new_admin_key;
  auto authn = auth::authenticator::make(cfg.auth, cfg.data_dir, api_keys, clk,
                                         auth::jwks_fetcher(cfg.auth.jwt ? cfg.auth.jwt->jwks_ca_file : ""),
                                         &new_admin_key);
  if (!authn) return fail(authn.error());
  // The one time the bootstrap key is shown (on stdout, to whoever started
  // the process, as the issue of a key shows it once); the file keeps it.
  if (!new_admin_key.empty())
    log::status("created the admin API key, shown only now: " + new_admin_key);
  if (cfg.auth.bootstrap_admin_key)
    log::status("the admin API key is in " + (*authn)->config().admin_key_file,
                log::fields{}.with("adminKeyFile", (*authn)->config().admin_key_file));
  webhooks::delivery_options wo;
  wo.retry_delays_ms = cfg.webhooks.retry_delays_ms;
  wo.deactivate_after = cfg.webhooks.deactivate_after;
  wo.threads = cfg.webhooks.threads;
  wo.per_endpoint = cfg.webhooks.per_endpoint;
  wo.timeout_ms = cfg.webhooks.timeout_ms;
  wo.source = cfg.kafka.source;
  if (scale) {  // the owner of the tenant's partition delivers
    wo.owns = [f = scale->fencing()](const std::string& tenant) { return f(tenant_id{tenant}).has_value(); };
    wo.fencing = [f = scale->fencing()](const std::string& tenant) { return f(tenant_id{tenant}); };
    // ... and the admin partition's owner writes the deactivation.
    wo.deactivate = [hooks, forward = scale->forwarder()](const events::webhook_endpoint& ep, const std::string& reason,
                                                         int failures) -> status {
      auto st = hooks->deactivate(ep.id, reason, failures);
      if (st || st.error().code != errc::fenced) return st;
      gateway::http_request req;
      req.method = "POST";
      req.path = "/v1/tenants/" + ep.tenant_id + "/webhooks/" + ep.id + "/deactivate";
      req.target = req.path;
      req.headers["content-type"] = "application/json";
      req.body = nlohmann::json{{"reason", reason}, {"consecutiveFailures", failures}}.dump();
      auto answer = forward(req);
      if (answer && answer->status == 200) return ok();
      return make_error(errc::unavailable, "the admin writer did not take the deactivation: " +
                                               (answer ? answer->body.substr(0, 200) : std::string("not forwarded")));
    };
  }
  auto deliveries = std::make_unique<webhooks::delivery_service>(
      journal, projections::rocksdb_adapter::make_view_store(*store), hooks, webhook_guard, clk, wo);
  if (auto st = deliveries->catch_up(); !st) return fail(st.error());
  deliveries->start();

  if (scale)  // another instance's admin writes, as the replica restores them
    scale->on_admin_change([governance, clusters, hooks, api_keys] {
      (void)governance->refresh();
      (void)clusters->refresh();
      (void)hooks->refresh();
      (void)api_keys->refresh();
    });
  registry->add(providers::openstack::make_openstack_provider(
      [clusters](const std::string& id) { return clusters->connection(id); }, secrets, clk));
  registry->add(providers::proxmox::make_proxmox_provider(
      [clusters](const std::string& id) { return clusters->connection(id); }, secrets, clk));
  registry->add(providers::vmware::make_vmware_provider(
      [clusters](const std::string& id) { return clusters->connection(id); }, secrets, clk));
  registry->add(providers::kubernetes::make_kubernetes_provider(
      [clusters](const std::string& id) { return clusters->connection(id); }, clk,
      providers::kubernetes::distribution::openshift));
  registry->add(providers::kubernetes::make_kubernetes_provider(
      [clusters](const std::string& id) { return clusters->connection(id); }, clk,
      providers::kubernetes::distribution::kubernetes));

  actors::engine_options eo;
  eo.rules = governance;
  eo.max_in_flight_per_tenant = cfg.max_in_flight_per_tenant;
  eo.gate = cfg.gate;
  actors::use_read_side(eo, summaries.get(), journal);
  eo.journal = journal;
  eo.time = clk;
  auto eo_timers = make_real_timers(clk);
  eo.timers = eo_timers;
  eo.providers = registry;
  eo.clusters = [clusters] { return clusters->list(); };
  eo.stuck_after_ms = cfg.stuck_after_ms;
  eo.retry = cfg.retry;
  eo.provider_threads = cfg.provider_threads;
  eo.abandon_calls_after_grace = true;  // SIGTERM: shutdownGraceMs is a hard limit
  if (scale) {
    eo.fencing = scale->fencing();
    eo.may_start_calls = scale->may_start_calls();
    eo.capacity = scale->capacity();
  }
  auto engine = std::make_unique<actors::engine>(std::move(eo));

  // Kafka: the embedded mock cluster unless brokers are configured.
  std::unique_ptr<events::kafka::mock_cluster> embedded_kafka;
  std::unique_ptr<events::kafka::outbox_relay> relay;
  std::unique_ptr<gateway::kafka_intake> intake;
  std::string bootstrap;
  if (cfg.kafka.enabled) {
    bootstrap = cfg.kafka.bootstrap;
    if (bootstrap.empty()) {
      auto mock = events::kafka::mock_cluster::start(3, all_topics(cfg.kafka));
      if (!mock) return fail(mock.error());
      embedded_kafka = std::move(*mock);
      bootstrap = embedded_kafka->bootstrap();
    }
    relay = std::make_unique<events::kafka::outbox_relay>(journal, bootstrap, cfg.kafka);
    if (auto st = relay->start(); !st) return fail(st.error());
    intake = std::make_unique<gateway::kafka_intake>(engine.get(), bootstrap, cfg.kafka, cfg.data_dir + "/intake");
    // Scaled out, the intake joins the group once ownership is wired (below).
    if (!scale)
      if (auto st = intake->start(); !st) return fail(st.error());
  }
  // Scaled out, the changelog is the record: nothing is acknowledged before
  // Kafka has it, so what a crashed instance had not published was never
  // promised to anyone (and is set aside at its next start, above).
  std::function<bool()> published;
  if (scale)
    published = [r = relay.get(), journal] { return r->wait_published(journal->last_position(), std::chrono::seconds(10)); };
  if (intake && published) intake->await_published(published);

  std::atomic<bool> ready{false};
  gateway::api_backend backend;
  backend.auth = authn->get();
  backend.engine = engine.get();
  backend.governance = governance.get();
  backend.clusters = clusters.get();
  backend.providers = registry.get();
  backend.secrets = secrets.get();
  backend.summaries = summaries.get();
  backend.webhooks = hooks.get();
  backend.deliveries = deliveries.get();
  backend.webhook_guard = webhook_guard.get();
  backend.webhook_rotation_overlap_ms = cfg.webhooks.rotation_overlap_ms;
  backend.history = [journal](const std::string& id) { return journal->read_stream(events::stream_for_request(id), 1); };
  backend.journal = journal.get();
  backend.stream_limits.heartbeat_ms = cfg.http.stream_heartbeat_ms;
  backend.stream_poll_ms = static_cast<int>(cfg.http.stream_poll_ms);
  backend.stream_slow_ms = static_cast<int>(cfg.http.stream_slow_reader_ms);
  backend.simulation_ledger = [s = sim]() -> result<std::string> {
    auto l = s->ledger();
    if (!l) return l.error();
    return providers::simulation::ledger_to_json(*l);
  };
  backend.await_published = published;
  backend.ready = [&ready, i = intake.get()] { return ready.load() && (!i || i->consuming()); };
  nlohmann::json system{{"service", "provisiond"},
                        {"pid", ::getpid()},
                        {"version", "0.1.0"},
                        {"durability", cfg.journal_durability == durability::durable ? "durable" : "fast"},
                        {"kafka", nullptr}};
  if (cfg.kafka.enabled)
    system["kafka"] = {{"bootstrap", bootstrap},
                       {"embedded", embedded_kafka != nullptr},
                       {"commandsTopic", cfg.kafka.commands_topic},
                       {"deadLetterTopic", events::kafka::dlq_topic(cfg.kafka)},
                       {"topicPrefix", cfg.kafka.topic_prefix}};
  backend.system_info = [system, journal, r = relay.get()] {
    auto j = system;
    constexpr std::size_t cap = 100'000;
    auto pending = journal->read_outbox(0, cap);
    j["journal"] = {{"lastPosition", journal->last_position()}};
    j["outbox"] = {{"pending", pending ? pending->size() : 0}, {"pendingCapped", pending && pending->size() == cap},
                   {"published", r ? r->published() : 0}};
    return j.dump();
  };
  // Gauges read at scrape time (GET /metrics).
  auto& metrics = metrics::registry::global();
  for (int i = 0; i < 11; ++i) {
    auto state = static_cast<events::lifecycle>(i);
    metrics.gauge("provisiond_requests", "Requests by lifecycle state (read model)", {{"state", events::to_string(state)}},
                  [s = summaries.get(), i] { return static_cast<double>(s->state_counts()[i]); });
  }
  metrics.gauge("provisiond_outbox_pending", "Journal events not yet confirmed by Kafka (capped at 100000)", {},
                [journal] {
                  auto p = journal->read_outbox(0, 100'000);
                  return p ? static_cast<double>(p->size()) : 0.0;
                });
  metrics.gauge("provisiond_journal_last_position", "Last committed global position of the journal", {},
                [journal] { return static_cast<double>(journal->last_position()); });
  metrics.gauge("provisiond_projection_lag_events", "Journal events the request-summary projection has not folded yet",
                {}, [journal, s = summaries.get()] {
                  return static_cast<double>(journal->last_position() - std::min(journal->last_position(), s->checkpoint()));
                });
  metrics.gauge("provisiond_request_actors", "Request actors in memory (the rest are passivated)", {},
                [e = engine.get()] { return static_cast<double>(e->live_actors()); });
  metrics.gauge("provisiond_tenant_supervisors", "Tenant supervisors in memory (idle ones are passivated)", {},
                [e = engine.get()] { return static_cast<double>(e->live_supervisors()); });
  if (relay)
    metrics.gauge("provisiond_kafka_published_entries", "Outbox entries confirmed by Kafka since this process started", {},
                  [r = relay.get()] { return static_cast<double>(r->published()); });

  if (scale) backend.forward = scale->forwarder();
  auto server = gateway::http_server::start(cfg.listen_host, cfg.listen_port, cfg.http_threads,
                                            [&backend](const gateway::http_request& r) { return gateway::handle(backend, r); },
                                            cfg.http, cfg.http_tls);
  if (!server) return fail(server.error());

  auto unfinished = summaries->unfinished();
  if (!unfinished) return fail(unfinished.error());
  if (scale) {
    // Only the partitions the group assigns are resumed, as they are taken.
    auto advertise = cfg.advertise.empty() ? cfg.listen_host + ":" + std::to_string((*server)->port()) : cfg.advertise;
    scale->attach(engine.get(), intake.get(), advertise);
    if (auto st = intake->start(); !st) return fail(st.error());
  } else {
    engine->resume(*unfinished);
  }
  ready = true;
  auto address = cfg.listen_host + ":" + std::to_string((*server)->port());
  log::status_line("provisiond listening on " + std::string(cfg.http_tls.cert_file.empty() ? "http" : "https") + "://" +
                       address + " (data in " + cfg.data_dir + ", journal " +
                       (cfg.journal_durability == durability::durable ? "durable" : "fast") + ", " +
                       std::to_string(unfinished->size()) + " unfinished requests resumed)",
                   log::fields{}.with("listen", address).with("resumed", static_cast<std::int64_t>(unfinished->size())));
  if (cfg.kafka.enabled)
    log::status_line("kafka bootstrap " + bootstrap + " (" + (embedded_kafka ? "embedded mock cluster" : "external") + ")",
                     log::fields{}.with("bootstrap", bootstrap));

  // Memory freed by finished requests goes back to the system when idle
  // (glibc keeps freed heap in its arenas otherwise).
  std::function<void()> trim;
  trim = [&trim, t = eo_timers, clk] {
    ::malloc_trim(0);
    t->schedule(clk->now() + 30'000, [&trim] { trim(); });
  };
  eo_timers->schedule(clk->now() + 30'000, [&trim] { trim(); });

  int sig = 0;
  sigwait(&signals, &sig);
  log::status(std::string(strsignal(sig)) + " received, shutting down");
  ready = false;
  (*server)->stop();  // stop intake: HTTP, then Kafka commands (leaving the group)
  if (intake) intake->stop();
  // In-flight calls get shutdownGraceMs to finish and be persisted, not more.
  bool clean = engine->shutdown(std::chrono::milliseconds(cfg.shutdown_grace_ms));
  if (scale) scale->stop();  // leases released (the group was left above: partitions move at once)
  metrics.remove_gauges("provisiond_request_actors");
  metrics.remove_gauges("provisiond_tenant_supervisors");
  if (relay) relay->stop(std::chrono::seconds(5));  // publish what is pending; the rest waits in the outbox
  deliveries->stop();  // attempts in flight finish (10 s at most); the rest stays pending
  summaries->stop();
  if (!clean) {
    // Threads are still inside provider calls that did not return in time:
    // their intents are in the journal and are settled on resume. Leave now
    // rather than wait on a cloud (the journal is flushed; nothing to unwind).
    log::status("stopped; provider calls still running after " + std::to_string(cfg.shutdown_grace_ms) +
                " ms were abandoned");
    std::_Exit(0);
  }
  engine.reset();
  log::status("stopped");
  return 0;
}
