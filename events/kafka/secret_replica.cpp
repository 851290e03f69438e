#include "events/kafka/secret_replica.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/base64.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"

namespace provisiond::events::kafka {

std::string secrets_topic(const kafka_config& cfg) { return cfg.topic_prefix + "provisioning.secrets"; }

struct secret_replica::impl {
  std::shared_ptr<secret_store> local;
  secret_box box;
  std::string bootstrap;
  kafka_config cfg;
  std::string topic;
  rd_kafka_t* producer = nullptr;
  rd_kafka_t* consumer = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable progress;
  std::vector<std::int64_t> next;  // per partition: the next offset to apply
  // One delivery report per produce, matched by a counter.
  std::mutex delivery_mutex;
  std::uint64_t produced = 0;
  std::map<std::uint64_t, rd_kafka_resp_err_t> reports;

  impl(std::shared_ptr<secret_store> l, secret_box b) : local(std::move(l)), box(std::move(b)) {}

  static void count(const char* result) {
    metrics::registry::global()
        .get_counter("provisiond_secret_replica_records_total", "provisioning.secrets records applied, by result",
                     {{"result", result}})
        .inc(1);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    std::lock_guard lock{self->delivery_mutex};
    self->reports[reinterpret_cast<std::uintptr_t>(m->_private)] = m->err;
  }

  // Produces one record (nullopt: a tombstone) and waits for the brokers.
  status publish(const std::string& name, const std::optional<std::string>& value) {
    std::uint64_t tag;
    {
      std::lock_guard lock{delivery_mutex};
      tag = ++produced;
    }
    void* bytes = value ? const_cast<char*>(value->data()) : nullptr;
    std::size_t size = value ? value->size() : 0;
    auto err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(name.data(), name.size()), RD_KAFKA_V_VALUE(bytes, size),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(tag)), RD_KAFKA_V_END);
    if (err) return make_error(errc::unavailable, std::string("secret not shared: ") + rd_kafka_err2str(err), "kafka");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      rd_kafka_poll(producer, 20);
      std::unique_lock lock{delivery_mutex};
      if (auto it = reports.find(tag); it != reports.end()) {
        auto e = it->second;
        reports.erase(it);
        if (e) return make_error(errc::unavailable, std::string("secret not shared: ") + rd_kafka_err2str(e), "kafka");
        return ok();
      }
      if (std::chrono::steady_clock::now() > deadline)
        return make_error(errc::unavailable, "secret not shared: the brokers did not confirm within 10 s", "kafka");
    }
  }

  void apply(const rd_kafka_message_t* m) {
    if (m->err || !m->key) return;
    std::string name(static_cast<const char*>(m->key), m->key_len);
    if (!m->payload) {
      if (local->erase(name)) count("erased");
      return;
    }
    auto sealed = base64_decode(std::string(static_cast<const char*>(m->payload), m->len));
    auto plain = sealed ? box.open(*sealed, name) : result<std::string>{sealed.error()};
    if (!plain) {  // another key, or not ours: never logged with its value, the name printable and short
      std::string shown;
      for (char ch : name.substr(0, 120)) shown += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
      log::warn("secret replica: " + shown + (name.size() > 120 ? "..." : "") +
                " cannot be opened with this instance's key");
      return count("unreadable");
    }
    auto have = local->get(name);
    if (have && *have && **have == *plain) return count("held");
    if (local->put(name, *plain)) count("applied");
  }

  void run() {
    while (!stopping.load()) {
      auto* m = rd_kafka_consumer_poll(consumer, 100);
      if (!m) continue;
      apply(m);
      {
        std::lock_guard lock{mutex};
        if (!m->err && m->partition >= 0 && m->partition < static_cast<std::int32_t>(next.size()))
          next[m->partition] = std::max(next[m->partition], m->offset + 1);
      }
      progress.notify_all();
      rd_kafka_message_destroy(m);
    }
  }
};

secret_replica::secret_replica(std::shared_ptr<secret_store> local, secret_box box, std::string bootstrap,
                               kafka_config cfg)
    : impl_(std::make_unique<impl>(std::move(local), std::move(box))) {
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
  impl_->topic = secrets_topic(impl_->cfg);
}

secret_replica::~secret_replica() { stop(); }

status secret_replica::start(std::chrono::milliseconds timeout) {
  char err[512];
  auto pconf = make_conf(impl_->bootstrap, impl_->cfg);
  if (!pconf) return pconf.error();
  rd_kafka_conf_set(*pconf, "enable.idempotence", "true", err, sizeof err);
  rd_kafka_conf_set(*pconf, "acks", "all", err, sizeof err);
  // A put waits 10 s for the brokers; the record gives up soon after, so a
  // report never arrives for a put that was already answered "not shared".
  rd_kafka_conf_set(*pconf, "message.timeout.ms", "10000", err, sizeof err);
  rd_kafka_conf_set_opaque(*pconf, impl_.get());
  rd_kafka_conf_set_dr_msg_cb(*pconf, &impl::on_delivery);
  impl_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, *pconf, err, sizeof err);
  if (!impl_->producer) return make_error(errc::unavailable, std::string("cannot create Kafka producer: ") + err, "kafka");

  auto cconf = make_conf(impl_->bootstrap, impl_->cfg);
  if (!cconf) return cconf.error();
  auto set = [&](const char* k, const std::string& v) { rd_kafka_conf_set(*cconf, k, v.c_str(), err, sizeof err); };
  set("group.id", impl_->cfg.group_id + "-secrets");  // assigned partitions only: never joined
  set("enable.auto.commit", "false");
  set("auto.offset.reset", "earliest");
  impl_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, *cconf, err, sizeof err);
  if (!impl_->consumer) return make_error(errc::unavailable, std::string("cannot create Kafka consumer: ") + err, "kafka");
  rd_kafka_poll_set_consumer(impl_->consumer);

  int n = partition_count(impl_->consumer, impl_->topic, 30, 1000);
  if (n == 0) return make_error(errc::unavailable, "no metadata for " + impl_->topic, "kafka.bootstrap");
  impl_->next.assign(n, 0);
  auto* list = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(list, impl_->topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  auto e = rd_kafka_assign(impl_->consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) return make_error(errc::unavailable, std::string("cannot assign ") + impl_->topic + ": " + rd_kafka_err2str(e));

  // What the topic holds now, before anything is served.
  std::vector<std::int64_t> high(n, 0);
  for (int p = 0; p < n; ++p) {
    std::int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(impl_->consumer, impl_->topic.c_str(), p, &lo, &hi, 5000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      return make_error(errc::unavailable, "no offsets for " + impl_->topic, "kafka.bootstrap");
    high[p] = hi;
  }
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
  std::unique_lock lock{impl_->mutex};
  bool done = impl_->progress.wait_for(lock, timeout, [&] {
    for (int p = 0; p < n; ++p)
      if (impl_->next[p] < high[p]) return false;
    return true;
  });
  if (!done) return make_error(errc::unavailable, "the secrets did not restore from " + impl_->topic, "kafka.bootstrap");
  return ok();
}

void secret_replica::stop() {
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->consumer) {
    rd_kafka_consumer_close(impl_->consumer);
    rd_kafka_destroy(impl_->consumer);
    impl_->consumer = nullptr;
  }
  if (impl_->producer) {
    rd_kafka_flush(impl_->producer, 5000);
    rd_kafka_destroy(impl_->producer);
    impl_->producer = nullptr;
  }
}

status secret_replica::put(const std::string& name, const std::string& plaintext) {
  if (auto st = impl_->local->put(name, plaintext); !st) return st;
  auto sealed = impl_->box.seal(plaintext, name);
  if (!sealed) return sealed.error();
  return impl_->publish(name, base64_encode(*sealed));
}

result<std::optional<std::string>> secret_replica::get(const std::string& name) { return impl_->local->get(name); }

status secret_replica::erase(const std::string& name) {
  if (auto st = impl_->local->erase(name); !st) return st;
  return impl_->publish(name, std::nullopt);
}

}  // namespace provisiond::events::kafka
