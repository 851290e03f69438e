#pragma once
/// Command intake from Kafka (`provisioning.commands`): a consumer-group
/// member on its own thread. Each command's offset is committed only after
/// its effect (and the commandId dedupe record) is durable in the journal,
/// so a redelivered command is a no-op. Commands that cannot be parsed,
/// validated or executed go to `<topic>.dlq` with the original bytes and a
/// reason header, as do lifecycle commands naming another tenant's request.
/// An engine that is slow or failing is waited for: the same command is
/// tried again with backoff (never skipped), and the state is in /metrics
/// (`provisiond_intake_state`).

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "actors/engine.hpp"
#include "common/config.hpp"
#include "common/result.hpp"

namespace provisiond::gateway {

struct parsed_command {
  std::string command_id;
  std::string command;  ///< provision | suspend | reactivate | deprovision | retry
  std::string tenant_id;
  std::string request_id;          ///< the target of the other commands; an optional chosen id for provision
  events::request_submitted spec;  ///< for provision
};

/// Parses and validates one command value. Errors name the field.
result<parsed_command> parse_command(std::string_view value);

class kafka_intake {
 public:
  /// `state_dir` holds which command each partition is handling, so one
  /// that keeps killing the process is dead-lettered after the restarts
  /// (empty: not tracked).
  kafka_intake(actors::engine* engine, std::string bootstrap, kafka_config cfg, std::string state_dir = {});
  ~kafka_intake();
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
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::gateway
