#pragma once
/// Command intake from Kafka (`provisioning.commands`): what each command
/// means. The consumer (events/kafka/command_consumer.hpp) delivers each
/// record; the intake parses it (gateway/commands.hpp) and calls the engine
/// with `cmd/<commandId>` as the dedupe key, so a redelivered command is a
/// no-op. Its verdict: commit once the effect is durable; dead-letter what
/// cannot be parsed, validated or executed (and lifecycle commands naming
/// another tenant's request); retry, the same command again and never the
/// next one, while the engine is slow or failing (`unavailable`, `internal`,
/// `retryable`).

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "actors/engine.hpp"
#include "common/settings.hpp"
#include "common/result.hpp"
#include "events/kafka/command_consumer.hpp"
#include "gateway/commands.hpp"

namespace provisiond::gateway {

class kafka_intake {
 public:
  /// `state_dir` holds which command each partition is handling, so one
  /// that keeps killing the process is dead-lettered after the restarts
  /// (empty: not tracked).
  kafka_intake(actors::engine* engine, std::string bootstrap, kafka_config cfg, std::string state_dir = {});
  /// Scale-out, before start(): `partition_for` says on which partition a
  /// command belongs (its tenant's); a command consumed on another one is
  /// produced there unchanged and committed here, so only the tenant's
  /// owner runs it. `hooks` follow the group's assignment.
  void scale_out(std::function<std::optional<std::int32_t>(const kafka_command&)> partition_for,
                 events::kafka::rebalance_hooks hooks);
  /// Scale-out: a command's offset is committed only once what it caused is
  /// on the changelog (`published` true); false retries the command (the
  /// dedupe record makes the retry a no-op). Call before start().
  void await_published(std::function<bool()> published) { published_ = std::move(published); }
  status start();
  /// Leaves the group; uncommitted commands are redelivered to whoever
  /// consumes next. Safe to call twice.
  void stop();
  /// False while a command waits for the engine (retried with backoff,
  /// never skipped) or after the consumer stopped: /readyz says 503.
  bool consuming() const;
  std::uint64_t accepted() const;
  std::uint64_t dead_lettered() const;

 private:
  // The consumer's handler (its thread): parse, call the engine, decide.
  events::kafka::verdict handle(const events::kafka::consumed_message& m);
  // One try at a parsed command: duplicate or not, or the engine's error.
  result<bool> execute(const kafka_command& cmd);

  actors::engine* engine_;
  std::function<std::optional<std::int32_t>(const kafka_command&)> partition_for_;
  std::function<bool()> published_;
  std::atomic<std::uint64_t> accepted_{0};
  // The command being retried, parsed once (consumer thread only).
  struct held_command {
    std::int32_t partition;
    std::int64_t offset;
    kafka_command command;
  };
  std::optional<held_command> held_;
  events::kafka::command_consumer consumer_;  // declared last, so destroyed (stopped) first
};

}  // namespace provisiond::gateway
