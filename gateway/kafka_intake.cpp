#include "gateway/kafka_intake.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"
#include "gateway/api.hpp"

namespace provisiond::gateway {

using nlohmann::json;

namespace {

constexpr std::size_t max_command_bytes = 1 << 20;

void count_command(const char* outcome) {
  metrics::registry::global()
      .get_counter("provisiond_commands_total", "Kafka commands consumed, by result", {{"result", outcome}})
      .inc();
}

error bad(std::string field, std::string message) {
  return make_error(errc::invalid_argument, std::move(message), std::move(field));
}

}  // namespace

result<parsed_command> parse_command(std::string_view value) {
  if (value.size() > max_command_bytes) return make_error(errc::too_large, "value is over the 1 MiB limit", "$");
  json j = json::parse(value, nullptr, false);
  if (j.is_discarded()) return bad("$", "value is not valid JSON");
  if (!j.is_object()) return bad("$", "expected a JSON object");
  parsed_command c;
  if (!j.contains("commandId") || !j["commandId"].is_string() || j["commandId"].get<std::string>().empty() ||
      j["commandId"].get<std::string>().size() > 128)
    return bad("commandId", "expected a string of 1-128 characters");
  c.command_id = j["commandId"].get<std::string>();
  static const std::vector<std::string> commands = {"provision", "suspend", "reactivate", "deprovision", "retry"};
  if (!j.contains("command") || !j["command"].is_string() ||
      std::find(commands.begin(), commands.end(), j["command"].get<std::string>()) == commands.end())
    return bad("command", "expected one of provision, suspend, reactivate, deprovision, retry");
  c.command = j["command"].get<std::string>();
  if (!j.contains("tenantId") || !j["tenantId"].is_string())
    return bad("tenantId", "tenantId is required");
  c.tenant_id = j["tenantId"].get<std::string>();
  if (c.command == "provision") {
    auto body = j;
    body.erase("commandId");
    body.erase("command");
    auto spec = parse_submission(body.dump(), &c.request_id);
    if (!spec) return spec.error();
    c.spec = std::move(*spec);
    return c;
  }
  if (!j.contains("requestId") || !j["requestId"].is_string() || j["requestId"].get<std::string>().empty())
    return bad("requestId", "requestId is required for " + c.command);
  c.request_id = j["requestId"].get<std::string>();
  return c;
}

struct kafka_intake::impl {
  actors::engine* engine;
  std::string bootstrap;
  kafka_config cfg;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* dlq = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> accepted{0}, dead{0};

  // Publishes the original bytes with the reason; waits for the delivery.
  bool dead_letter(const rd_kafka_message_t* m, const error& e) {
    std::string reason = (e.field.empty() ? "" : e.field + ": ") + e.message;
    std::string origin = std::string(rd_kafka_topic_name(m->rkt)) + "/" + std::to_string(m->partition) + "/" +
                         std::to_string(m->offset);
    std::string code = to_string(e.code);
    auto topic = events::kafka::dlq_topic(cfg);
    while (!stopping) {
      auto err = rd_kafka_producev(
          dlq, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(m->key, m->key_len),
          RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER("provisiond-dlq-reason", reason.data(), static_cast<ssize_t>(reason.size())),
          RD_KAFKA_V_HEADER("provisiond-dlq-code", code.data(), static_cast<ssize_t>(code.size())),
          RD_KAFKA_V_HEADER("provisiond-dlq-origin", origin.data(), static_cast<ssize_t>(origin.size())),
          RD_KAFKA_V_END);
      if (!err && rd_kafka_flush(dlq, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++dead;
        count_command("dead_lettered");
        std::fprintf(stderr, "provisiond: command at %s dead-lettered: %s\n", origin.c_str(), reason.c_str());
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  // Returns false if the command must not be committed (shutting down).
  bool handle(const rd_kafka_message_t* m) {
    std::string_view value{static_cast<const char*>(m->payload), m->len};
    auto cmd = parse_command(value);
    if (!cmd) return dead_letter(m, cmd.error());
    if (cmd->command != "provision") {
      auto r = engine->lifecycle(cmd->request_id, cmd->command, "cmd/" + cmd->command_id);
      if (r) {
        ++accepted;
        count_command("accepted");
        return true;
      }
      if (r.error().code == errc::unavailable) return false;
      return dead_letter(m, r.error());
    }
    actors::submit_command sc;
    sc.spec = std::move(cmd->spec);
    sc.dedupe_key = "cmd/" + cmd->command_id;
    sc.request_id = cmd->request_id;
    auto r = engine->submit(std::move(sc));
    if (r) {
      ++accepted;
      count_command(r->duplicate ? "duplicate" : "accepted");
      return true;
    }
    if (r.error().code == errc::unavailable) return false;  // not durable: redelivered later
    return dead_letter(m, r.error());
  }

  void run() {
    while (!stopping) {
      auto* m = rd_kafka_consumer_poll(consumer, 200);
      if (!m) continue;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          std::fprintf(stderr, "provisiond: command consumer: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      bool done = handle(m);
      // Only now, with the effect durable, is the offset committed.
      if (done) rd_kafka_commit_message(consumer, m, 0);
      rd_kafka_message_destroy(m);
      if (!done) break;
    }
  }
};

kafka_intake::kafka_intake(actors::engine* engine, std::string bootstrap, kafka_config cfg)
    : impl_(std::make_unique<impl>()) {
  impl_->engine = engine;
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
}

kafka_intake::~kafka_intake() { stop(); }

status kafka_intake::start() {
  char err[512];
  auto cconf = events::kafka::make_conf(impl_->bootstrap, impl_->cfg);
  if (!cconf) return cconf.error();
  auto set = [&](rd_kafka_conf_t* c, const char* k, const char* v) { rd_kafka_conf_set(c, k, v, err, sizeof err); };
  set(*cconf, "group.id", impl_->cfg.group_id.c_str());
  set(*cconf, "enable.auto.commit", "false");
  set(*cconf, "auto.offset.reset", "earliest");
  set(*cconf, "session.timeout.ms", "6000");
  set(*cconf, "fetch.message.max.bytes", "4194304");
  impl_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, *cconf, err, sizeof err);
  if (!impl_->consumer) return make_error(errc::unavailable, std::string("cannot create Kafka consumer: ") + err, "kafka");
  rd_kafka_poll_set_consumer(impl_->consumer);
  auto pconf = events::kafka::make_conf(impl_->bootstrap, impl_->cfg);
  if (!pconf) return pconf.error();
  set(*pconf, "acks", "all");
  set(*pconf, "message.max.bytes", "4194304");
  impl_->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, *pconf, err, sizeof err);
  if (!impl_->dlq) return make_error(errc::unavailable, std::string("cannot create Kafka producer: ") + err, "kafka");
  auto* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, impl_->cfg.commands_topic.c_str(), RD_KAFKA_PARTITION_UA);
  auto e = rd_kafka_subscribe(impl_->consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) return make_error(errc::unavailable, std::string("cannot subscribe: ") + rd_kafka_err2str(e), "kafka");
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
  return ok();
}

void kafka_intake::stop() {
  if (impl_->stopping.exchange(true) && !impl_->thread.joinable()) return;
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->consumer) {
    rd_kafka_consumer_close(impl_->consumer);
    rd_kafka_destroy(impl_->consumer);
    impl_->consumer = nullptr;
  }
  if (impl_->dlq) {
    rd_kafka_flush(impl_->dlq, 5000);
    rd_kafka_destroy(impl_->dlq);
    impl_->dlq = nullptr;
  }
}

std::uint64_t kafka_intake::accepted() const { return impl_->accepted.load(); }
std::uint64_t kafka_intake::dead_lettered() const { return impl_->dead.load(); }

}  // namespace provisiond::gateway
