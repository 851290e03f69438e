#pragma once
/// The consumer of `provisioning.commands` (librdkafka): a consumer-group
/// member on its own thread that hands each message to a handler and does
/// what the handler decides. An offset is committed only once the handler
/// said so, or once the message is in `<topic>.dlq` (original key and bytes,
/// reason headers); a message the handler cannot take yet is offered again
/// after a backoff, never skipped. A message that was in hand when the
/// process died `max_crashes` times is dead-lettered without asking the
/// handler (a crash loop). What the message means is the handler's business.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/settings.hpp"
#include "common/result.hpp"

namespace provisiond::events::kafka {

/// One consumed message, valid for the duration of the handler call.
struct consumed_message {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string_view key;
  std::string_view value;
};

/// What becomes of a message.
struct verdict {
  enum class action {
    commit,       ///< its effect is durable: commit the offset
    dead_letter,  ///< publish it to the DLQ with `reason`, then commit
    retry,        ///< not taken for now (`reason`): offer it again after a backoff
    forward,      ///< another partition's business: produce it there as it is, then commit
  };
  action what = action::commit;
  error reason;
  std::int32_t partition = -1;  ///< forward: where to

  static verdict commit() { return {}; }
  static verdict dead_letter(error e) { return {action::dead_letter, std::move(e), -1}; }
  static verdict retry(error e) { return {action::retry, std::move(e), -1}; }
  static verdict forward(std::int32_t partition) { return {action::forward, {}, partition}; }
};

/// Called on the consumer's thread when the group assigns or revokes
/// partitions (before any message of an assigned partition is handed over,
/// after the last one of a revoked partition). They may block.
struct rebalance_hooks {
  std::function<void(const std::vector<std::int32_t>&)> assigned;
  std::function<void(const std::vector<std::int32_t>&)> revoked;
};

/// Runs on the consumer's thread, one message at a time; may block.
using message_handler = std::function<verdict(const consumed_message&)>;

/// `provisiond_intake_state`: what the consumer is doing.
enum class consumer_state { consuming = 0, retrying = 1, stopped = 2 };

/// A message cut short by the process dying this many times is dead-lettered.
inline constexpr int max_crashes_per_message = 3;

class command_consumer {
 public:
  /// Consumes `cfg.commands_topic` in the group `cfg.group_id`, dead-letters
  /// to `dlq_topic(cfg)`. `attempts_dir` notes per partition which offset is
  /// in hand (`partition-N`: "<offset> <tries>"), so a message that keeps
  /// killing the process is recognised after the restart (empty: not tracked).
  command_consumer(std::string bootstrap, kafka_config cfg, std::string attempts_dir, message_handler handler);
  /// Stops first.
  ~command_consumer();
  command_consumer(const command_consumer&) = delete;
  command_consumer& operator=(const command_consumer&) = delete;

  /// Set before start(): partition ownership follows the group's assignment.
  void set_rebalance_hooks(rebalance_hooks hooks);
  /// Joins the group and starts the thread; registers the gauge
  /// `provisiond_intake_state`. Counts `provisiond_commands_total` with
  /// result `dead_lettered` and `retried`. Call once.
  status start();
  /// Leaves the group; a message in hand stays uncommitted and is
  /// redelivered to whoever consumes next. Safe to call twice.
  void stop();
  /// consuming, retrying (a message waits for its handler) or stopped. Thread-safe.
  consumer_state state() const;
  /// True while started and not retrying. Thread-safe.
  bool consuming() const;
  /// Messages published to the DLQ since start. Thread-safe.
  std::uint64_t dead_lettered() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::events::kafka
