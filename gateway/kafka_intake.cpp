#include "gateway/kafka_intake.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"
#include "gateway/api.hpp"

namespace provisiond::gateway {

using nlohmann::json;

namespace {

constexpr std::size_t max_command_bytes = 1 << 20;
/// A command whose handling was cut short by the process dying this many
/// times is dead-lettered instead of being tried again (a crash loop).
constexpr int max_crashes_per_command = 3;

void count_command(const char* outcome) {
  metrics::registry::global()
      .get_counter("provisiond_commands_total", "Kafka commands consumed, by result", {{"result", outcome}})
      .inc();
}

// Tests: PROVISIOND_FAILPOINT=intake-unavailable=N makes the engine refuse
// the intake's first N tries "for now", as a stalled journal would.
bool injected_unavailable() {
  static std::atomic<long> left{[] {
    const char* fp = std::getenv("PROVISIOND_FAILPOINT");
    constexpr std::string_view prefix = "intake-unavailable=";
    if (!fp || std::string_view(fp).rfind(prefix, 0) != 0) return 0L;
    return std::strtol(fp + prefix.size(), nullptr, 10);
  }()};
  return left.load() > 0 && left.fetch_sub(1) > 0;
}

error bad(std::string field, std::string message) {
  return make_error(errc::invalid_argument, std::move(message), std::move(field));
}

result<std::string> string_field(const json& j, const char* field, std::size_t max) {
  if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty() ||
      j[field].get<std::string>().size() > max)
    return bad(field, "expected a string of 1-" + std::to_string(max) + " characters");
  return j[field].get<std::string>();
}

}  // namespace

result<parsed_command> parse_command(std::string_view value) {
  if (value.size() > max_command_bytes) return make_error(errc::too_large, "value is over the 1 MiB limit", "$");
  auto parsed = parse_json(value, "value");
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  if (!j.is_object()) return bad("$", "expected a JSON object");
  parsed_command c;
  auto id = string_field(j, "commandId", 128);
  if (!id) return id.error();
  if (!std::all_of(id->begin(), id->end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }))
    return bad("commandId", "expected printable ASCII characters without spaces");
  c.command_id = *id;
  static const std::vector<std::string> commands = {"provision", "suspend", "reactivate", "deprovision", "retry"};
  if (!j.contains("command") || !j["command"].is_string() ||
      std::find(commands.begin(), commands.end(), j["command"].get<std::string>()) == commands.end())
    return bad("command", "expected one of provision, suspend, reactivate, deprovision, retry");
  c.command = j["command"].get<std::string>();
  if (!j.contains("tenantId") || !j["tenantId"].is_string()) return bad("tenantId", "tenantId is required");
  c.tenant_id = j["tenantId"].get<std::string>();
  if (!is_valid_id(c.tenant_id)) return bad("tenantId", "expected a tenant id");
  if (c.command == "provision") {
    auto spec = submission_from_json(j, &c.request_id, "commandId", "command");
    if (!spec) return spec.error();
    c.spec = std::move(*spec);
    return c;
  }
  for (auto& [k, v] : j.items()) {
    (void)v;
    if (k != "commandId" && k != "command" && k != "tenantId" && k != "requestId")
      return bad(k, "unknown field; expected commandId, command, tenantId, requestId");
  }
  auto rid = string_field(j, "requestId", 64);
  if (!rid) return make_error(errc::invalid_argument, "requestId is required for " + c.command, "requestId");
  if (!is_valid_id(*rid)) return bad("requestId", "expected a request id");
  c.request_id = *rid;
  return c;
}

namespace {

/// Where the intake notes the command it is handling, per partition, so
/// that a command that keeps killing the process is recognised after the
/// restart. One small file per partition; written before handling, removed
/// after the commit. Survives a process crash (page cache), which is the
/// case it is for.
class attempt_log {
 public:
  explicit attempt_log(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::create_directories(dir_, ec);
  }
  /// Records that (partition, offset) is being handled; returns how many
  /// earlier handlings of it did not finish.
  int begin(std::int32_t partition, std::int64_t offset) {
    if (dir_.empty()) return 0;
    auto path = file(partition);
    int earlier = 0;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      long long off = -1;
      int n = 0;
      if (std::fscanf(f, "%lld %d", &off, &n) == 2 && off == offset) earlier = n;
      std::fclose(f);
    }
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fprintf(f, "%lld %d\n", static_cast<long long>(offset), earlier + 1);
      std::fclose(f);
    }
    return earlier;
  }
  void done(std::int32_t partition) {
    if (!dir_.empty()) ::unlink(file(partition).c_str());
  }

 private:
  std::string file(std::int32_t partition) const { return dir_ + "/partition-" + std::to_string(partition); }
  std::string dir_;
};

enum class intake_state { consuming = 0, retrying = 1, stopped = 2 };

}  // namespace

struct kafka_intake::impl {
  actors::engine* engine;
  std::string bootstrap;
  kafka_config cfg;
  attempt_log attempts{""};
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* dlq = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> state{static_cast<int>(intake_state::consuming)};
  std::atomic<std::uint64_t> accepted{0}, dead{0}, retries{0};

  void set_state(intake_state s) { state = static_cast<int>(s); }

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
      std::fprintf(stderr, "provisiond: cannot dead-letter the command at %s yet; retrying\n", origin.c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  // One try at a parsed command: the engine's answer.
  result<bool> execute(parsed_command& cmd) {
    if (injected_unavailable()) return make_error(errc::unavailable, "the engine did not answer in time (failpoint)");
    if (cmd.command != "provision") {
      auto r = engine->lifecycle(cmd.request_id, cmd.command, "cmd/" + cmd.command_id, cmd.tenant_id);
      if (!r) return r.error();
      return false;
    }
    actors::submit_command sc;
    sc.spec = cmd.spec;
    sc.dedupe_key = "cmd/" + cmd.command_id;
    sc.request_id = cmd.request_id;
    auto r = engine->submit(std::move(sc));
    if (!r) return r.error();
    return r->duplicate;
  }

  // Handles one command until its effect is durable or it is dead-lettered.
  // An engine that is slow, stalled or failing is waited for (backoff, the
  // same command again, never the next one). Returns false only when
  // stopping: the command is then left uncommitted for redelivery.
  bool handle(const rd_kafka_message_t* m) {
    std::string_view value{static_cast<const char*>(m->payload), m->len};
    auto cmd = parse_command(value);
    if (!cmd) return dead_letter(m, cmd.error());
    auto delay = std::chrono::milliseconds(100);
    while (!stopping) {
      auto r = execute(*cmd);
      if (r) {
        ++accepted;
        count_command(*r ? "duplicate" : "accepted");
        set_state(intake_state::consuming);
        return true;
      }
      auto code = r.error().code;
      if (code != errc::unavailable && code != errc::internal && code != errc::retryable) {
        set_state(intake_state::consuming);
        return dead_letter(m, r.error());
      }
      set_state(intake_state::retrying);
      ++retries;
      count_command("retried");
      std::fprintf(stderr, "provisiond: command %s (partition %d, offset %lld) not taken yet: %s; again in %lld ms\n",
                   cmd->command_id.c_str(), static_cast<int>(m->partition), static_cast<long long>(m->offset),
                   r.error().message.c_str(), static_cast<long long>(delay.count()));
      for (auto waited = std::chrono::milliseconds(0); waited < delay && !stopping; waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      delay = std::min(delay * 2, std::chrono::milliseconds(5000));
    }
    return false;
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
      bool done = false;
      if (int crashes = attempts.begin(m->partition, m->offset); crashes >= max_crashes_per_command) {
        done = dead_letter(m, make_error(errc::invalid_argument, "provisiond stopped " + std::to_string(crashes) +
                                                                     " times while handling this command",
                                         "$"));
      } else {
        done = handle(m);
      }
      // Only now, with the effect durable, is the offset committed.
      if (done) {
        rd_kafka_commit_message(consumer, m, 0);
        attempts.done(m->partition);
      }
      rd_kafka_message_destroy(m);
    }
    set_state(intake_state::stopped);
  }
};

kafka_intake::kafka_intake(actors::engine* engine, std::string bootstrap, kafka_config cfg, std::string state_dir)
    : impl_(std::make_unique<impl>()) {
  impl_->engine = engine;
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
  impl_->attempts = attempt_log{std::move(state_dir)};
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
  auto& reg = metrics::registry::global();
  auto* i = impl_.get();
  reg.gauge("provisiond_intake_state", "Kafka command intake: 0 consuming, 1 retrying a command the engine refused "
                                       "for now, 2 stopped",
            {}, [i] { return static_cast<double>(i->state.load()); });
  impl_->thread = std::thread([i] { i->run(); });
  return ok();
}

void kafka_intake::stop() {
  if (impl_->stopping.exchange(true) && !impl_->thread.joinable()) return;
  if (impl_->thread.joinable()) impl_->thread.join();
  metrics::registry::global().remove_gauges("provisiond_intake_state");
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

bool kafka_intake::consuming() const {
  return impl_->thread.joinable() && impl_->state.load() == static_cast<int>(intake_state::consuming);
}
std::uint64_t kafka_intake::accepted() const { return impl_->accepted.load(); }
std::uint64_t kafka_intake::dead_lettered() const { return impl_->dead.load(); }

}  // namespace provisiond::gateway
