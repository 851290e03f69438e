#include "events/kafka/journal_replica.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <librdkafka/rdkafka.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"

namespace provisiond::events::kafka {

namespace {

void count(const char* result, std::uint64_t n) {
  if (n == 0) return;
  metrics::registry::global()
      .get_counter("provisiond_replica_events_total", "journal-topic records applied by the replica, by result",
                   {{"result", result}})
      .inc(static_cast<double>(n));
}

}  // namespace

struct journal_replica::impl {
  std::shared_ptr<journal> j;
  std::string bootstrap;
  kafka_config cfg;
  std::string checkpoint_file;
  std::function<void(const std::vector<std::string>&)> applied_hook;
  std::string topic;
  rd_kafka_t* consumer = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;
  std::condition_variable progress;
  std::vector<std::int64_t> next;  // per partition: the next offset to apply
  std::vector<std::int64_t> high;  // per partition: the last high watermark seen
  std::vector<std::uint64_t> tokens;  // per partition: the highest fencing token seen
  replica_counts totals;

  void load_checkpoint() {
    if (checkpoint_file.empty()) return;
    std::ifstream in{checkpoint_file};
    long long p = 0, off = 0;
    unsigned long long token = 0;
    while (in >> p >> off >> token)
      if (p >= 0 && p < static_cast<long long>(next.size()) && off >= 0) {
        next[p] = off;
        tokens[p] = token;
      }
  }

  // Written whole and renamed into place: a crash leaves the old or the new one.
  void save_checkpoint() {
    if (checkpoint_file.empty()) return;
    auto tmp = checkpoint_file + ".tmp";
    {
      std::ofstream out{tmp, std::ios::trunc};
      for (std::size_t p = 0; p < next.size(); ++p) out << p << ' ' << next[p] << ' ' << tokens[p] << '\n';
    }
    std::error_code ec;
    std::filesystem::rename(tmp, checkpoint_file, ec);
  }

  // Appends the batch's events (group-committed together), then sorts out
  // why each refused one was refused.
  void apply(const std::vector<rd_kafka_message_t*>& batch) {
    struct item {
      envelope env;
      std::optional<dedupe_record> dedupe;
      result<append_result> outcome = make_error(errc::internal, "not appended");
    };
    std::vector<item> items;
    replica_counts c;
    std::vector<std::int64_t> applied(next.size(), -1);
    std::vector<std::uint64_t> seen_tokens(next.size(), 0);
    for (auto* m : batch) {
      if (m->err) continue;
      if (m->partition >= 0 && m->partition < static_cast<std::int32_t>(applied.size()))
        applied[m->partition] = std::max(applied[m->partition], m->offset);
      std::optional<dedupe_record> dedupe;
      auto env = parse_journal_record(
          std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0), &dedupe);
      if (!env) {
        ++c.malformed;
        continue;
      }
      if (m->partition >= 0 && m->partition < static_cast<std::int32_t>(seen_tokens.size()))
        seen_tokens[m->partition] = std::max(seen_tokens[m->partition], env->fencing_token);
      items.push_back(item{std::move(*env), std::move(dedupe)});
    }
    std::mutex done_mutex;
    std::condition_variable done_cv;
    std::size_t remaining = items.size();
    for (auto& it : items) {
      append_request req;
      req.stream = it.env.stream;
      req.expected_sequence = it.env.sequence - 1;
      req.events.push_back(pending_event{it.env.type, it.env.schema_version, it.env.payload, it.env.time});
      req.fencing_token = it.env.fencing_token;
      req.dedupe = it.dedupe;  // the command that caused it: a redelivery here is a no-op
      req.to_outbox = false;   // on Kafka already
      j->append_async(std::move(req), [&, slot = &it](result<append_result> r) {
        std::lock_guard lock{done_mutex};
        slot->outcome = std::move(r);
        if (--remaining == 0) done_cv.notify_all();
      });
    }
    {
      std::unique_lock lock{done_mutex};
      done_cv.wait(lock, [&] { return remaining == 0; });
    }
    std::vector<std::string> streams;
    for (auto& it : items) {
      // Nothing written because the command is known here already: held if
      // this journal has the very event, else a divergence (counted).
      bool known_command = it.outcome && it.outcome->duplicate_of;
      if (it.outcome && !known_command) {
        ++c.restored;
        // Same stream order, same chain: the link computed here is the writer's.
        if (!it.env.hash.empty() && it.outcome->last_hash != it.env.hash) {
          ++c.chain_mismatches;
          log::error("replica: the chain link of " + it.env.event_id + " differs from its writer's",
                     log::fields{}.with("stream", it.env.stream));
        }
        if (std::find(streams.begin(), streams.end(), it.env.stream) == streams.end()) streams.push_back(it.env.stream);
        continue;
      }
      if (!known_command) {
        auto code = it.outcome.error().code;
        if (code == errc::fenced) {
          ++c.refused;
          continue;
        }
        if (code != errc::conflict) {
          // The local journal failed (disk): this record is not applied; keep
          // the offsets where they are so it is read again.
          log::error("replica: " + it.outcome.error().message, log::fields{}.with("stream", it.env.stream));
          return;
        }
      }
      auto have = j->read_stream(it.env.stream, it.env.sequence, 1);
      if (have && !have->empty() && have->front().sequence == it.env.sequence) {
        const auto& h = have->front();
        if (h.type == it.env.type && h.payload == it.env.payload &&
            (h.hash.empty() || it.env.hash.empty() || h.hash == it.env.hash))
          ++c.held;
        else ++c.diverged;
      } else if (known_command) {
        ++c.diverged;  // another event answered this command here
      } else {
        ++c.gaps;
      }
    }
    count("restored", c.restored);
    count("held", c.held);
    count("refused", c.refused);
    count("diverged", c.diverged);
    count("gap", c.gaps);
    count("malformed", c.malformed);
    count("chain_mismatch", c.chain_mismatches);
    std::lock_guard lock{mutex};
    for (std::size_t p = 0; p < applied.size(); ++p) {
      if (applied[p] >= 0) next[p] = std::max(next[p], applied[p] + 1);
      tokens[p] = std::max(tokens[p], seen_tokens[p]);
    }
    totals.restored += c.restored;
    totals.held += c.held;
    totals.refused += c.refused;
    totals.diverged += c.diverged;
    totals.gaps += c.gaps;
    totals.malformed += c.malformed;
    totals.chain_mismatches += c.chain_mismatches;
    save_checkpoint();
    if (applied_hook && !streams.empty()) applied_hook(streams);
    progress.notify_all();
  }

  void watermarks() {
    std::lock_guard lock{mutex};
    for (std::size_t p = 0; p < high.size(); ++p) {
      std::int64_t lo = 0, hi = 0;
      if (rd_kafka_get_watermark_offsets(consumer, topic.c_str(), static_cast<std::int32_t>(p), &lo, &hi) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          hi >= 0)
        high[p] = std::max(high[p], hi);
    }
  }

  void run() {
    std::vector<rd_kafka_message_t*> batch;
    while (!stopping.load()) {
      batch.clear();
      for (auto* m = rd_kafka_consumer_poll(consumer, 100); m; m = rd_kafka_consumer_poll(consumer, 0)) {
        batch.push_back(m);
        if (batch.size() >= 2000) break;
      }
      if (!batch.empty()) apply(batch);
      for (auto* m : batch) rd_kafka_message_destroy(m);
      watermarks();
    }
  }
};

journal_replica::journal_replica(std::shared_ptr<journal> j, std::string bootstrap, kafka_config cfg,
                                 std::string checkpoint_file)
    : impl_(std::make_unique<impl>()) {
  impl_->j = std::move(j);
  impl_->bootstrap = std::move(bootstrap);
  impl_->cfg = std::move(cfg);
  impl_->checkpoint_file = std::move(checkpoint_file);
  impl_->topic = journal_topic(impl_->cfg);
}

journal_replica::~journal_replica() { stop(); }

void journal_replica::on_applied(std::function<void(const std::vector<std::string>&)> fn) {
  impl_->applied_hook = std::move(fn);
}

status journal_replica::start() {
  auto conf = make_conf(impl_->bootstrap, impl_->cfg);
  if (!conf) return conf.error();
  char err[512];
  auto set = [&](const char* k, const std::string& v) { rd_kafka_conf_set(*conf, k, v.c_str(), err, sizeof err); };
  // Assigned partitions only: the group id is never joined or committed to.
  set("group.id", impl_->cfg.group_id + "-replica");
  set("enable.auto.commit", "false");
  set("enable.auto.offset.store", "false");
  set("auto.offset.reset", "earliest");
  impl_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!impl_->consumer) return make_error(errc::unavailable, std::string("cannot create Kafka consumer: ") + err, "kafka");
  rd_kafka_poll_set_consumer(impl_->consumer);

  // The topic's partitions, from the cluster's metadata.
  int n = partition_count(impl_->consumer, impl_->topic, 30, 1000);
  if (n == 0) return make_error(errc::unavailable, "no metadata for " + impl_->topic, "kafka.bootstrap");
  impl_->next.assign(n, 0);
  impl_->high.assign(n, 0);
  impl_->tokens.assign(n, 0);
  impl_->load_checkpoint();
  auto* list = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p)
    rd_kafka_topic_partition_list_add(list, impl_->topic.c_str(), p)->offset =
        impl_->next[p] > 0 ? impl_->next[p] : RD_KAFKA_OFFSET_BEGINNING;
  auto e = rd_kafka_assign(impl_->consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) return make_error(errc::unavailable, std::string("cannot assign ") + impl_->topic + ": " + rd_kafka_err2str(e));
  metrics::registry::global().gauge("provisiond_replica_lag_records",
                                    "journal-topic records not yet applied to the local journal", {},
                                    [this] { return static_cast<double>(lag()); });
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
  return ok();
}

void journal_replica::stop() {
  if (!impl_->consumer) return;
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  metrics::registry::global().remove_gauges("provisiond_replica_lag_records");
  rd_kafka_consumer_close(impl_->consumer);
  rd_kafka_destroy(impl_->consumer);
  impl_->consumer = nullptr;
}

bool journal_replica::caught_up(std::int32_t partition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::int64_t lo = 0, hi = 0;
  if (rd_kafka_query_watermark_offsets(impl_->consumer, impl_->topic.c_str(), partition, &lo, &hi,
                                       static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return false;
  std::unique_lock lock{impl_->mutex};
  if (partition < 0 || partition >= static_cast<std::int32_t>(impl_->next.size())) return false;
  impl_->high[partition] = std::max(impl_->high[partition], hi);
  return impl_->progress.wait_until(lock, deadline, [&] { return impl_->next[partition] >= hi; });
}

bool journal_replica::caught_up(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::int32_t p = 0; p < partitions(); ++p) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !caught_up(p, left)) return false;
  }
  return true;
}

std::int64_t journal_replica::lag() const {
  // The brokers' high watermarks now (not the ones the last fetch brought),
  // so a lag of 0 means every record on the topic is applied.
  std::vector<std::int64_t> now;
  for (std::int32_t p = 0; p < partitions(); ++p) {
    std::int64_t lo = 0, hi = -1;
    if (impl_->consumer && rd_kafka_query_watermark_offsets(impl_->consumer, impl_->topic.c_str(), p, &lo, &hi, 200) !=
                               RD_KAFKA_RESP_ERR_NO_ERROR)
      hi = -1;
    now.push_back(hi);
  }
  std::lock_guard lock{impl_->mutex};
  for (std::size_t p = 0; p < now.size() && p < impl_->high.size(); ++p) impl_->high[p] = std::max(impl_->high[p], now[p]);
  std::int64_t lag = 0;
  for (std::size_t p = 0; p < impl_->next.size(); ++p) lag += std::max<std::int64_t>(0, impl_->high[p] - impl_->next[p]);
  return lag;
}

replica_counts journal_replica::counts() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->totals;
}

std::uint64_t journal_replica::highest_token(std::int32_t partition) const {
  std::lock_guard lock{impl_->mutex};
  if (partition < 0 || partition >= static_cast<std::int32_t>(impl_->tokens.size())) return 0;
  return impl_->tokens[partition];
}

std::int32_t journal_replica::partitions() const {
  std::lock_guard lock{impl_->mutex};
  return static_cast<std::int32_t>(impl_->next.size());
}

}  // namespace provisiond::events::kafka
