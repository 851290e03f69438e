#include "events/kafka/command_consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <librdkafka/rdkafka.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"

namespace provisiond::events::kafka {

namespace {

void count_command(const char* outcome) {
  metrics::registry::global()
      .get_counter("provisiond_commands_total", "Kafka commands consumed, by result", {{"result", outcome}})
      .inc();
}

/// Where the consumer notes the message it is handling, per partition, so
/// that one that keeps killing the process is recognised after the restart.
/// One small file per partition; written before handling, removed after the
/// commit. Survives a process crash (page cache), which is the case it is for.
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

std::string_view bytes(const void* p, std::size_t n) {
  return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view{};
}

}  // namespace

struct command_consumer::impl {
  std::string bootstrap;
  kafka_config cfg;
  attempt_log attempts{""};
  message_handler handler;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* dlq = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> state{static_cast<int>(consumer_state::consuming)};
  std::atomic<std::uint64_t> dead{0};
  rebalance_hooks hooks;

  void set_state(consumer_state s) { state = static_cast<int>(s); }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    std::vector<std::int32_t> ps;
    for (int k = 0; k < parts->cnt; ++k) ps.push_back(parts->elems[k].partition);
    bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    log::info(std::string("consumer group: ") + (assign ? "assigned " : "revoked ") + std::to_string(parts->cnt) +
              " partition(s)");
    if (assign) {
      rd_kafka_assign(rk, parts);
      if (self->hooks.assigned) self->hooks.assigned(ps);
    } else {
      if (self->hooks.revoked) self->hooks.revoked(ps);
      rd_kafka_assign(rk, nullptr);
    }
  }

  // Produces the message unchanged to another partition of its topic and
  // waits for the delivery. False only when stopping first.
  bool forward(const rd_kafka_message_t* m, std::int32_t partition) {
    while (!stopping) {
      auto err = rd_kafka_producev(dlq, RD_KAFKA_V_TOPIC(rd_kafka_topic_name(m->rkt)), RD_KAFKA_V_PARTITION(partition),
                                   RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (!err && rd_kafka_flush(dlq, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        count_command("forwarded");
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  // Publishes the original bytes with the reason; waits for the delivery.
  // False only when stopping first.
  bool dead_letter(const rd_kafka_message_t* m, const error& e) {
    std::string reason = (e.field.empty() ? "" : e.field + ": ") + e.message;
    std::string origin =
        std::string(rd_kafka_topic_name(m->rkt)) + "/" + std::to_string(m->partition) + "/" + std::to_string(m->offset);
    std::string code = to_string(e.code);
    auto topic = dlq_topic(cfg);
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
        log::warn("command at " + origin + " dead-lettered: " + reason,
                  log::fields{}.with("origin", origin).with("code", code));
        return true;
      }
      log::warn("cannot dead-letter the command at " + origin + " yet; retrying", log::fields{}.with("origin", origin));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  // Offers one message to the handler until it is committed or dead-lettered.
  // A retry verdict is waited out (backoff, the same message again, never
  // the next one). Returns false only when stopping: the message is then
  // left uncommitted for redelivery.
  bool deliver(const rd_kafka_message_t* m) {
    const consumed_message msg{rd_kafka_topic_name(m->rkt), m->partition, m->offset, bytes(m->key, m->key_len),
                               bytes(m->payload, m->len)};
    auto delay = std::chrono::milliseconds(100);
    while (!stopping) {
      auto v = handler(msg);
      if (v.what == verdict::action::commit) {
        set_state(consumer_state::consuming);
        return true;
      }
      if (v.what == verdict::action::dead_letter) {
        set_state(consumer_state::consuming);
        return dead_letter(m, v.reason);
      }
      if (v.what == verdict::action::forward) {
        set_state(consumer_state::consuming);
        return forward(m, v.partition);
      }
      set_state(consumer_state::retrying);
      count_command("retried");
      auto origin = std::string(msg.topic) + "/" + std::to_string(m->partition) + "/" + std::to_string(m->offset);
      log::warn("command at " + origin + " not taken yet: " + v.reason.message + "; again in " +
                    std::to_string(delay.count()) + " ms",
                log::fields{}.with("origin", origin));
      for (auto waited = std::chrono::milliseconds(0); waited < delay && !stopping;
           waited += std::chrono::milliseconds(50))
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
          log::error(std::string("command consumer: ") + rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      bool done = false;
      if (int crashes = attempts.begin(m->partition, m->offset); crashes >= max_crashes_per_message) {
        done = dead_letter(
            m, make_error(errc::invalid_argument,
                          "provisiond stopped " + std::to_string(crashes) + " times while handling this command", "$"));
      } else {
        done = deliver(m);
      }
      // Only now, with the effect durable, is the offset committed.
      if (done) {
        rd_kafka_commit_message(consumer, m, 0);
        attempts.done(m->partition);
      }
      rd_kafka_message_destroy(m);
    }
    set_state(consumer_state::stopped);
  }
};

command_consumer::command_consumer(std::string bootstrap, kafka_config cfg, std::string attempts_dir,
                                   message_handler handler)
    : impl_(std::make_unique<impl>()) {
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
  impl_->attempts = attempt_log{std::move(attempts_dir)};
  impl_->handler = std::move(handler);
}

command_consumer::~command_consumer() {
  stop();
}

status command_consumer::start() {
  char err[512];
  auto cconf = make_conf(impl_->bootstrap, impl_->cfg);
  if (!cconf) return cconf.error();
  auto set = [&](rd_kafka_conf_t* c, const char* k, const char* v) { rd_kafka_conf_set(c, k, v, err, sizeof err); };
  set(*cconf, "group.id", impl_->cfg.group_id.c_str());
  set(*cconf, "enable.auto.commit", "false");
  set(*cconf, "auto.offset.reset", "earliest");
  set(*cconf, "session.timeout.ms", "6000");
  set(*cconf, "fetch.message.max.bytes", "4194304");
  if (impl_->hooks.assigned || impl_->hooks.revoked) {
    rd_kafka_conf_set_rebalance_cb(*cconf, &impl::on_rebalance);
    rd_kafka_conf_set_opaque(*cconf, impl_.get());
  }
  impl_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, *cconf, err, sizeof err);
  if (!impl_->consumer)
    return make_error(errc::unavailable, std::string("cannot create Kafka consumer: ") + err, "kafka");
  rd_kafka_poll_set_consumer(impl_->consumer);
  auto pconf = make_conf(impl_->bootstrap, impl_->cfg);
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
  auto* i = impl_.get();
  metrics::registry::global().gauge("provisiond_intake_state",
                                    "Kafka command intake: 0 consuming, 1 retrying a command the engine refused "
                                    "for now, 2 stopped",
                                    {}, [i] { return static_cast<double>(i->state.load()); });
  impl_->thread = std::thread([i] { i->run(); });
  return ok();
}

void command_consumer::set_rebalance_hooks(rebalance_hooks hooks) { impl_->hooks = std::move(hooks); }

void command_consumer::stop() {
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

consumer_state command_consumer::state() const {
  return static_cast<consumer_state>(impl_->state.load());
}

bool command_consumer::consuming() const {
  return impl_->thread.joinable() && impl_->state.load() == static_cast<int>(consumer_state::consuming);
}

std::uint64_t command_consumer::dead_lettered() const {
  return impl_->dead.load();
}

}  // namespace provisiond::events::kafka
