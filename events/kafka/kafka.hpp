#pragma once
/// The Kafka adapter (librdkafka): the embedded mock cluster, client
/// configuration, the CloudEvents mapping of journal events, and the outbox
/// relay that publishes them.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/settings.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/envelope.hpp"
#include "events/journal.hpp"
#include "events/request_state.hpp"

struct rd_kafka_conf_s;
struct rd_kafka_s;

namespace provisiond::events::kafka {

/// librdkafka's mock cluster: a real Kafka protocol server on loopback, in this process.
class mock_cluster {
 public:
  /// Starts `brokers` brokers and creates `topics` (`partitions` each).
  static result<std::unique_ptr<mock_cluster>> start(int brokers, const std::vector<std::string>& topics,
                                                     int partitions = 4);
  ~mock_cluster();
  /// "127.0.0.1:p1,127.0.0.1:p2,..."
  std::string bootstrap() const;
  /// Takes every broker down (true) or brings them back (false). For outage tests.
  void set_down(bool down);

 private:
  mock_cluster() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The nine lifecycle topics and `provisioning.journal`, with the prefix.
std::vector<std::string> event_topics(const kafka_config& cfg);
/// `<commands_topic>.dlq`.
std::string dlq_topic(const kafka_config& cfg);

/// A librdkafka configuration with the bootstrap servers and every
/// pass-through property applied. Errors name the offending property (never
/// its value, which may be a secret).
result<rd_kafka_conf_s*> make_conf(const std::string& bootstrap, const kafka_config& cfg);

/// A topic's partition count from the cluster's metadata, asked up to
/// `attempts` times (`timeout_ms` each); 0 while the brokers cannot say.
int partition_count(rd_kafka_s* client, const std::string& topic, int attempts, int timeout_ms);

/// One Kafka record to publish.
struct record {
  std::string topic;
  std::string key;
  std::string value;
  /// Non-empty: the record goes to partition_of(partition_key, partitions)
  /// (events/kafka/partitioning.hpp), not where its key would hash.
  std::string partition_key;
};

/// The records for one journal event: its CloudEvent on `provisioning.journal`
/// and, for lifecycle events, on its own topic. `after` is the request's state
/// once the event is applied. Deterministic: re-publishing gives the same bytes.
/// The journal record is the changelog: keyed by request id, placed on the
/// tenant's partition, and its `data.journal` holds the stored event itself
/// (stream, sequence, type, schema version, time, fencing token, payload) so
/// another instance can restore it byte for byte (parse_journal_record).
/// `dedupe`: the dedupe record appended with the event, carried in
/// `data.journal.dedupe` so the instance that restores it also knows the
/// command (a redelivery there is a no-op too).
std::vector<record> records_for(const envelope& env, const event& e, const request_state& after,
                                const kafka_config& cfg, const std::optional<dedupe_record>& dedupe = std::nullopt);

/// The lifecycle topics (without prefix), in the order of the product's
/// event list: `provisioning.started`, ... `provisioning.rolled-back`. Each
/// is also the `type` of its records' CloudEvents.
inline constexpr std::array<std::string_view, 9> lifecycle_topics = {
    "provisioning.started",   "provisioning.step-completed", "resource.allocated",
    "service.activated",      "provisioning.completed",      "provisioning.failed",
    "service.suspended",      "service.reactivated",         "provisioning.rolled-back"};

/// The lifecycle topics (without prefix) a domain event goes to, in order.
std::vector<std::string> lifecycle_topics_of(const event& e);

/// The CloudEvents of a request event on the lifecycle topics, as (type,
/// value) — exactly the records' values (what tenant webhooks receive).
std::vector<std::pair<std::string, std::string>> lifecycle_cloud_events(const envelope& env, const event& e,
                                                                        const request_state& after,
                                                                        const kafka_config& cfg);

/// A request event as one CloudEvent whose `type` is the journal's event
/// type (`request_completed`, ...), with the same `data` (for webhooks that
/// subscribe to journal types).
std::string event_cloud_event(const envelope& env, const event& e, const request_state& after,
                              const kafka_config& cfg);

/// Scale-out: the changelog record of an admin event (clusters, quotas,
/// approval rules): only the journal record, keyed by stream, on the
/// partition of `admin_partition_key`.
record admin_record_for(const envelope& env, const kafka_config& cfg);
/// The changelog record of an event of another stream (a tenant's webhook
/// deliveries), keyed by stream, on the partition of `partition_key`.
record changelog_record_for(const envelope& env, const kafka_config& cfg, const std::string& partition_key);

/// The stored event inside a `provisioning.journal` record (its
/// `global_position` is 0: positions are each journal's own). Errors name
/// the field that is missing or malformed; never throws.
result<envelope> parse_journal_record(std::string_view value, std::optional<dedupe_record>* dedupe = nullptr);

/// `provisioning.journal` with the prefix.
std::string journal_topic(const kafka_config& cfg);

/// Publishes the journal's outbox with an idempotent producer (acks=all) and
/// acknowledges entries only on successful delivery reports. Runs on its own
/// thread; never blocks appends: while Kafka is down the outbox grows.
class outbox_relay {
 public:
  outbox_relay(std::shared_ptr<journal> j, std::string bootstrap, kafka_config cfg);
  ~outbox_relay();
  status start();
  /// Stops after flushing for up to `grace`. Safe to call twice.
  void stop(std::chrono::milliseconds grace);
  /// Outbox entries published and acknowledged since start.
  std::uint64_t published() const;
  /// Blocks until no outbox entry at or below `position` is still waiting
  /// for Kafka (scale-out: a write is answered once the changelog has it).
  /// False on timeout.
  bool wait_published(std::uint64_t position, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::events::kafka
