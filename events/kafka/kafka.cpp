#include "events/kafka/kafka.hpp"
#include "common/json.hpp"
#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/json_mapping.hpp"
#include "events/kafka/partitioning.hpp"
#include "events/state_cache.hpp"

namespace provisiond::events::kafka {

using nlohmann::json;

// librdkafka logs every failed connect while brokers are down; keep one line
// per second at most.
static void quiet_log(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  static std::atomic<std::int64_t> last{0};
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (level > 3 && last.exchange(now) == now) return;
  // librdkafka's levels are syslog's: 3 and below are errors, 4 warnings.
  auto l = level <= 3 ? log::level::error : level == 4 ? log::level::warn : log::level::info;
  log::write(l, std::string("kafka ") + fac + ": " + buf, log::fields{}.with("facility", fac));
}

struct mock_cluster::impl {
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int brokers = 0;
};

result<std::unique_ptr<mock_cluster>> mock_cluster::start(int brokers, const std::vector<std::string>& topics,
                                                          int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!host) return make_error(errc::unavailable, std::string("cannot create the embedded Kafka host: ") + err);
  auto* cluster = rd_kafka_mock_cluster_new(host, brokers);
  if (!cluster) {
    rd_kafka_destroy(host);
    return make_error(errc::unavailable, "cannot start the embedded Kafka mock cluster");
  }
  std::unique_ptr<mock_cluster> m{new mock_cluster};
  m->impl_ = std::make_unique<impl>();
  m->impl_->host = host;
  m->impl_->cluster = cluster;
  m->impl_->brokers = brokers;
  for (auto& t : topics) rd_kafka_mock_topic_create(cluster, t.c_str(), partitions, std::min(brokers, 3));
  return m;
}

mock_cluster::~mock_cluster() {
  if (impl_ && impl_->cluster) rd_kafka_mock_cluster_destroy(impl_->cluster);
  if (impl_ && impl_->host) rd_kafka_destroy(impl_->host);
}

std::string mock_cluster::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(impl_->cluster); }

void mock_cluster::set_down(bool down) {
  for (int b = 1; b <= impl_->brokers; ++b) {
    if (down) rd_kafka_mock_broker_set_down(impl_->cluster, b);
    else rd_kafka_mock_broker_set_up(impl_->cluster, b);
  }
}

namespace {

constexpr const char* journal_topic_name = "provisioning.journal";

// Which lifecycle topics a domain event goes to.
std::vector<std::string> lifecycle_topics_for(const event& e) {
  std::vector<std::string> out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, step_started>) {
          if (x.step == step_kind::allocate && x.attempt == 1) out.push_back("provisioning.started");
        } else if constexpr (std::is_same_v<T, step_completed>) {
          out.push_back("provisioning.step-completed");
          if (x.step == step_kind::activate) out.push_back("service.activated");
        } else if constexpr (std::is_same_v<T, resource_allocated>) {
          out.push_back("resource.allocated");
        } else if constexpr (std::is_same_v<T, request_completed>) {
          out.push_back("provisioning.completed");
        } else if constexpr (std::is_same_v<T, request_failed>) {
          out.push_back("provisioning.failed");
        } else if constexpr (std::is_same_v<T, rolled_back> || std::is_same_v<T, deprovisioned>) {
          out.push_back("provisioning.rolled-back");
        } else if constexpr (std::is_same_v<T, service_suspended>) {
          out.push_back("service.suspended");
        } else if constexpr (std::is_same_v<T, service_reactivated>) {
          out.push_back("service.reactivated");
        }
      },
      e);
  return out;
}

json resources_json(const std::vector<resource_ref>& rs) {
  json out = json::array();
  for (auto& r : rs) out.push_back(to_json(r));
  return out;
}

// The event-specific part of `data`.
void add_details(json& data, const event& e, const request_state& after) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, request_submitted>) {
          data["type"] = x.type;
          data["region"] = x.region;
          data["resources"] = to_json(x.resources);
        } else if constexpr (std::is_same_v<T, cluster_placed>) {
          data["clusterId"] = x.cluster_id;
          data["reason"] = x.reason;
        } else if constexpr (std::is_same_v<T, capacity_released>) {
          data["clusterId"] = x.cluster_id;
        } else if constexpr (std::is_same_v<T, manual_input_requested>) {
          data["step"] = to_json(x.step);
          data["message"] = x.message;
        } else if constexpr (std::is_same_v<T, manual_input_provided>) {
          // The credential itself is sealed in the secret store; only its kind is here.
          data["step"] = to_json(x.step);
          data["host"] = x.host;
          data["username"] = x.username;
          data["endpoints"] = x.endpoints;
          data["credential"] = x.credential;
        } else if constexpr (std::is_same_v<T, late_result_received>) {
          data["step"] = to_json(x.step);
          data["resources"] = resources_json(x.resources);
        } else if constexpr (std::is_same_v<T, step_started>) {
          data["step"] = to_json(x.step);
          data["attempt"] = x.attempt;
          data["clusterId"] = after.cluster_id;
        } else if constexpr (std::is_same_v<T, step_completed>) {
          data["step"] = to_json(x.step);
          data["attempt"] = x.attempt;
          data["outputs"] = x.outputs;
        } else if constexpr (std::is_same_v<T, resource_allocated>) {
          data["step"] = to_json(x.resource.step);
          data["resource"] = to_json(x.resource);
        } else if constexpr (std::is_same_v<T, step_failed>) {
          data["step"] = to_json(x.step);
          data["attempt"] = x.attempt;
          data["reason"] = x.message;
          data["retryable"] = x.retryable;
        } else if constexpr (std::is_same_v<T, request_completed>) {
          data["endpoints"] = x.endpoints;
          data["resources"] = resources_json(after.resources);
        } else if constexpr (std::is_same_v<T, request_failed>) {
          data["code"] = x.code;
          data["reason"] = x.reason;
          if (x.step) data["step"] = to_json(*x.step);
        } else if constexpr (std::is_same_v<T, rollback_started>) {
          data["reason"] = x.reason;
        } else if constexpr (std::is_same_v<T, step_compensated>) {
          data["step"] = to_json(x.step);
          data["released"] = x.released;
        } else if constexpr (std::is_same_v<T, compensation_failed>) {
          data["step"] = to_json(x.step);
          data["attempt"] = x.attempt;
          data["reason"] = x.message;
        } else if constexpr (std::is_same_v<T, rolled_back>) {
          data["reason"] = after.failure_reason;
        } else if constexpr (std::is_same_v<T, deprovisioned>) {
          data["reason"] = "deprovisioned";
          data["deprovisioned"] = true;
        } else if constexpr (std::is_same_v<T, action_requested> || std::is_same_v<T, action_failed>) {
          data["action"] = to_string(x.action);
        }
      },
      e);
}

}  // namespace

std::vector<std::string> event_topics(const kafka_config& cfg) {
  std::vector<std::string> out;
  for (auto t : lifecycle_topics) out.push_back(cfg.topic_prefix + std::string(t));
  out.push_back(journal_topic(cfg));
  return out;
}

std::string journal_topic(const kafka_config& cfg) { return cfg.topic_prefix + journal_topic_name; }

std::string dlq_topic(const kafka_config& cfg) { return cfg.commands_topic + ".dlq"; }

int partition_count(rd_kafka_t* client, const std::string& topic, int attempts, int timeout_ms) {
  int n = 0;
  for (int tries = 0; tries < attempts && n == 0; ++tries) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(client, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(client, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) n = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
  }
  return n;
}

result<rd_kafka_conf_t*> make_conf(const std::string& bootstrap, const kafka_config& cfg) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& k, const std::string& v) -> bool {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK;
  };
  set("log_level", "4");
  rd_kafka_conf_set_log_cb(conf, quiet_log);
  if (!set("bootstrap.servers", bootstrap)) {
    rd_kafka_conf_destroy(conf);
    return make_error(errc::invalid_argument, "invalid bootstrap servers", "kafka.bootstrap");
  }
  for (auto& [k, v] : cfg.properties) {
    auto res = rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
    if (res != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // librdkafka's message may quote the value, which may be a password: not passed on.
      return make_error(errc::invalid_argument,
                        res == RD_KAFKA_CONF_UNKNOWN ? "unknown librdkafka property" : "invalid value for this property",
                        "kafka.properties." + k);
    }
  }
  return conf;
}

namespace {

json stored_event(const envelope& env, const std::optional<dedupe_record>& dedupe = std::nullopt) {
  json out{{"stream", env.stream},
           {"sequence", env.sequence},
           {"type", env.type},
           {"schemaVersion", env.schema_version},
           {"timeMs", env.time},
           {"fencingToken", env.fencing_token},
           {"payload", env.payload}};
  // The writer's chain link: the instance that restores the event computes
  // its own and compares (journal_replica).
  if (!env.hash.empty()) {
    out["previousHash"] = to_hex(env.previous_hash);
    out["hash"] = to_hex(env.hash);
  }
  if (dedupe) out["dedupe"] = {{"key", dedupe->key}, {"value", dedupe->value}};
  return out;
}

}  // namespace

namespace {

// `data` of a request event's CloudEvents: who, what state, what happened.
json event_data(const envelope& env, const event& e, const request_state& after) {
  json data{{"requestId", request_of_stream(env.stream)},
            {"tenantId", after.spec.tenant_id},
            {"orderId", after.spec.order_id},
            {"state", to_string(after.state)},
            {"eventType", env.type},
            {"sequence", env.sequence}};
  add_details(data, e, after);
  return data;
}

std::string cloud_event(const envelope& env, const json& data, const kafka_config& cfg, const std::string& type) {
  json ce{{"specversion", "1.0"},
          {"id", env.event_id},
          {"source", cfg.source},
          {"type", type},
          {"subject", request_of_stream(env.stream)},
          {"time", format_time(env.time)},
          {"datacontenttype", "application/json"},
          {"data", data}};
  return dump_json(ce);
}

}  // namespace

std::string event_cloud_event(const envelope& env, const event& e, const request_state& after,
                              const kafka_config& cfg) {
  return cloud_event(env, event_data(env, e, after), cfg, env.type);
}

std::vector<std::string> lifecycle_topics_of(const event& e) { return lifecycle_topics_for(e); }

std::vector<std::pair<std::string, std::string>> lifecycle_cloud_events(const envelope& env, const event& e,
                                                                        const request_state& after,
                                                                        const kafka_config& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  auto topics = lifecycle_topics_for(e);
  if (topics.empty()) return out;
  auto data = event_data(env, e, after);
  for (auto& t : topics) out.emplace_back(t, cloud_event(env, data, cfg, t));
  return out;
}

std::vector<record> records_for(const envelope& env, const event& e, const request_state& after,
                                const kafka_config& cfg, const std::optional<dedupe_record>& dedupe) {
  std::vector<record> out;
  auto request_id = request_of_stream(env.stream);
  auto data = event_data(env, e, after);
  auto cloud_event = [&](const std::string& type) { return provisiond::events::kafka::cloud_event(env, data, cfg, type); };
  for (auto& t : lifecycle_topics_for(e)) out.push_back(record{cfg.topic_prefix + t, request_id, cloud_event(t), {}});
  // The changelog record carries the stored event as it is in the journal.
  data["journal"] = stored_event(env, dedupe);
  out.push_back(record{journal_topic(cfg), request_id, cloud_event(journal_topic_name), after.spec.tenant_id});
  return out;
}

record changelog_record_for(const envelope& env, const kafka_config& cfg, const std::string& partition_key) {
  json ce{{"specversion", "1.0"},
          {"id", env.event_id},
          {"source", cfg.source},
          {"type", journal_topic_name},
          {"subject", env.stream},
          {"time", format_time(env.time)},
          {"datacontenttype", "application/json"},
          {"data", {{"eventType", env.type}, {"sequence", env.sequence}, {"journal", stored_event(env)}}}};
  return record{journal_topic(cfg), env.stream, dump_json(ce), partition_key};
}

record admin_record_for(const envelope& env, const kafka_config& cfg) {
  return changelog_record_for(env, cfg, std::string{admin_partition_key});
}

result<envelope> parse_journal_record(std::string_view value, std::optional<dedupe_record>* dedupe) {
  auto parsed = parse_json(value, "record");
  if (!parsed) return parsed.error();
  const json& ce = *parsed;
  auto bad = [](const std::string& field, const std::string& expected) {
    return make_error(errc::invalid_argument, "expected " + expected, field);
  };
  if (!ce.is_object() || !ce.contains("data") || !ce["data"].is_object()) return bad("data", "an object");
  const auto& d = ce["data"];
  if (!d.contains("journal") || !d["journal"].is_object()) return bad("data.journal", "an object");
  const auto& j = d["journal"];
  envelope env;
  auto text = [&](const char* k, std::string& out) -> bool {
    if (!j.contains(k) || !j[k].is_string() || j[k].get_ref<const std::string&>().empty()) return false;
    out = j[k].get<std::string>();
    return true;
  };
  auto number = [&](const char* k, auto& out) -> bool {
    if (!j.contains(k) || !j[k].is_number_unsigned()) return false;
    out = j[k].get<std::remove_reference_t<decltype(out)>>();
    return true;
  };
  if (!text("stream", env.stream) || (request_of_stream(env.stream).empty() && !is_admin_stream(env.stream) &&
                                      tenant_of_webhook_deliveries(env.stream).empty()))
    return bad("data.journal.stream", "a request stream, an admin stream or a tenant's webhook deliveries");
  if (!number("sequence", env.sequence) || env.sequence == 0) return bad("data.journal.sequence", "an integer >= 1");
  if (!text("type", env.type)) return bad("data.journal.type", "an event type");
  if (!number("schemaVersion", env.schema_version)) return bad("data.journal.schemaVersion", "an integer");
  if (!j.contains("timeMs") || !j["timeMs"].is_number_integer()) return bad("data.journal.timeMs", "an integer");
  env.time = j["timeMs"].get<time_ms>();
  if (!number("fencingToken", env.fencing_token)) return bad("data.journal.fencingToken", "an integer >= 0");
  if (!text("payload", env.payload)) return bad("data.journal.payload", "the event's JSON text");
  for (auto [k, out] : {std::pair{"hash", &env.hash}, std::pair{"previousHash", &env.previous_hash}}) {
    if (!j.contains(k)) continue;
    auto raw = j[k].is_string() ? from_hex(j[k].get_ref<const std::string&>()) : std::nullopt;
    if (!raw || raw->size() != hash_size) return bad(std::string("data.journal.") + k, "64 hex digits");
    *out = std::move(*raw);
  }
  if (j.contains("dedupe")) {
    const auto& d = j["dedupe"];
    if (!d.is_object() || !d.contains("key") || !d["key"].is_string() || d["key"].get_ref<const std::string&>().empty() ||
        !d.contains("value") || !d["value"].is_string())
      return bad("data.journal.dedupe", "an object with the strings key and value");
    if (dedupe) *dedupe = dedupe_record{d["key"].get<std::string>(), d["value"].get<std::string>()};
  }
  env.event_id = event_id_of(env.stream, env.sequence);
  return env;
}

struct outbox_relay::impl {
  std::shared_ptr<journal> j;
  std::string bootstrap;
  kafka_config cfg;
  rd_kafka_t* producer = nullptr;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::uint64_t seen_commit = 0;
  std::atomic<std::uint64_t> published{0};
  // Outbox position → records not yet confirmed; failed ones are produced
  // again under a new generation, so late reports of an older try are ignored.
  struct flight {
    int remaining = 0;
    std::uint64_t generation = 0;
  };
  std::unordered_map<std::uint64_t, flight> in_flight;
  std::uint64_t next_generation = 1;
  static constexpr int position_bits = 48;  // opaque = generation << 48 | position
  std::uint64_t scan_from = 0;  // outbox entries below this were handed to librdkafka
  std::vector<std::uint64_t> confirmed;
  std::vector<std::uint64_t> failed;
  // Folded states of requests in flight, so `data` can carry tenant, order and state.
  std::unique_ptr<state_cache> states;
  // Partition counts of the topics records are placed on by partition_key.
  std::unordered_map<std::string, int> partitions;

  // The partition count of `topic` from the cluster's metadata (cached);
  // 0 while the brokers cannot say (the caller stops and tries later).
  int partition_count(const std::string& topic) {
    if (auto it = partitions.find(topic); it != partitions.end()) return it->second;
    int n = kafka::partition_count(producer, topic, 1, 2000);
    if (n > 0) partitions[topic] = n;
    return n;
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    auto tag = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
    auto pos = tag & ((std::uint64_t{1} << position_bits) - 1);
    auto generation = tag >> position_bits;
    auto it = self->in_flight.find(pos);
    if (it == self->in_flight.end() || it->second.generation != generation) return;  // a report of an older try
    if (m->err) {
      self->failed.push_back(pos);
      return;
    }
    if (--it->second.remaining == 0) {
      self->in_flight.erase(it);
      self->confirmed.push_back(pos);
    }
  }

  // Hands one outbox entry's records to librdkafka. False if librdkafka
  // refused one (local queue full): the caller stops, so order is kept.
  bool publish(std::uint64_t pos) {
    auto envs = j->read_all(pos, 1);
    if (!envs || envs->empty() || envs->front().global_position != pos) return false;
    const auto& env = envs->front();
    auto e = decode(env);
    if (!e) {
      log::error("outbox " + std::to_string(pos) + ": " + e.error().message,
                 log::fields{}.with("position", static_cast<std::int64_t>(pos)));
      return false;
    }
    std::vector<record> records;
    if (is_admin_stream(env.stream)) {
      records.push_back(admin_record_for(env, cfg));
    } else if (auto tenant = tenant_of_webhook_deliveries(env.stream); !tenant.empty()) {
      records.push_back(changelog_record_for(env, cfg, tenant));  // on the tenant's partition
    } else {
      auto after = states->after(env, *e);
      if (!after) return false;
      auto dedupe = j->outbox_dedupe(pos);
      if (!dedupe) return false;
      records = records_for(env, *e, *after, cfg, *dedupe);
    }
    std::vector<std::int32_t> placed(records.size(), RD_KAFKA_PARTITION_UA);
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].partition_key.empty()) continue;
      int n = partition_count(records[i].topic);
      if (n == 0) return false;  // no metadata yet: this entry waits, order kept
      placed[i] = partition_of(records[i].partition_key, n);
    }
    auto generation = next_generation++ & 0xffff;
    in_flight[pos] = flight{static_cast<int>(records.size()), generation};
    auto tag = (generation << position_bits) | pos;
    for (std::size_t i = 0; i < records.size(); ++i) {
      auto& r = records[i];
      auto err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(placed[i]),
                                   RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                   RD_KAFKA_V_VALUE(r.value.data(), r.value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                   RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(tag))),
                                   RD_KAFKA_V_END);
      if (err) {
        // Local queue full (or similar): produced again later, with what follows it.
        failed.push_back(pos);
        return false;
      }
    }
    return true;
  }

  void run() {
    for (;;) {
      {
        std::unique_lock lock{mutex};
        // Woken by commits; the timeout also drives delivery reports.
        wake.wait_for(lock, std::chrono::milliseconds(in_flight.empty() ? 50 : 5),
                      [&] { return stopping || seen_commit > 0; });
        if (stopping) return;
        seen_commit = 0;
      }
      // Produce what is pending and not already in librdkafka's hands.
      if (in_flight.size() < 50'000) {
        auto pending = j->read_outbox(scan_from, 2000);
        if (pending)
          for (auto pos : *pending) {
            if (in_flight.count(pos)) continue;
            if (!publish(pos)) break;
            scan_from = pos + 1;
          }
      }
      rd_kafka_poll(producer, 10);
      // Failed records are produced again, with everything after them.
      for (auto pos : failed) {
        in_flight.erase(pos);
        scan_from = std::min(scan_from, pos);
      }
      failed.clear();
      if (!confirmed.empty()) {
        if (j->ack_outbox(confirmed)) published += confirmed.size();
        confirmed.clear();
        acked.notify_all();
      }
    }
  }

  // The lowest outbox entry still waiting, if any.
  bool published_through(std::uint64_t position) {
    auto pending = j->read_outbox(0, 1);
    return pending && (pending->empty() || pending->front() > position);
  }
  std::mutex acked_mutex;
  std::condition_variable acked;
};

outbox_relay::outbox_relay(std::shared_ptr<journal> j, std::string bootstrap, kafka_config cfg)
    : impl_(std::make_unique<impl>()) {
  impl_->j = std::move(j);
  impl_->states = std::make_unique<state_cache>(impl_->j);
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
}

outbox_relay::~outbox_relay() { stop(std::chrono::milliseconds(0)); }

status outbox_relay::start() {
  auto conf = make_conf(impl_->bootstrap, impl_->cfg);
  if (!conf) return conf.error();
  char err[512];
  auto set = [&](const char* k, const char* v) { rd_kafka_conf_set(*conf, k, v, err, sizeof err); };
  set("enable.idempotence", "true");  // implies acks=all, ordered retries
  set("acks", "all");
  set("message.timeout.ms", "0");     // retry until delivered: order per request is kept
  set("linger.ms", "5");
  set("compression.type", "lz4");
  rd_kafka_conf_set_dr_msg_cb(*conf, &impl::on_delivery);
  rd_kafka_conf_set_opaque(*conf, impl_.get());
  impl_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (!impl_->producer) return make_error(errc::unavailable, std::string("cannot create Kafka producer: ") + err, "kafka");
  impl_->j->on_commit([i = impl_.get()](std::uint64_t pos) {
    {
      std::lock_guard lock{i->mutex};
      i->seen_commit = pos;
    }
    i->wake.notify_one();
  });
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
  return ok();
}

void outbox_relay::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock{impl_->mutex};
    if (impl_->stopping && !impl_->thread.joinable()) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->producer) {
    rd_kafka_flush(impl_->producer, static_cast<int>(grace.count()));
    rd_kafka_poll(impl_->producer, 0);
    if (!impl_->confirmed.empty() && impl_->j->ack_outbox(impl_->confirmed)) impl_->published += impl_->confirmed.size();
    impl_->confirmed.clear();
    rd_kafka_destroy(impl_->producer);
    impl_->producer = nullptr;
  }
}

std::uint64_t outbox_relay::published() const { return impl_->published.load(); }

bool outbox_relay::wait_published(std::uint64_t position, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock{impl_->acked_mutex};
  for (;;) {
    if (impl_->published_through(position)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    impl_->acked.wait_for(lock, std::chrono::milliseconds(20));  // woken by acknowledgements
  }
}

}  // namespace provisiond::events::kafka
