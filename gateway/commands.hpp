#pragma once
/// The commands that come in over HTTP and Kafka, parsed and validated in
/// one place: pure functions from bytes to a command, or to an error naming
/// the field, what was wrong and what was expected. A Kafka `provision` is
/// checked by the same code as a POST /v1/requests body, on the same parsed
/// JSON (never serialised again). Thread-safe; no I/O.

#include <array>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "events/catalog.hpp"
#include "events/domain_events.hpp"

namespace provisiond::gateway {

/// A validated submission (POST /v1/requests, or a Kafka `provision`).
struct submission {
  events::request_submitted spec;  ///< idempotency_key empty (it is a header)
  std::string request_id;          ///< chosen by the client; empty: the engine assigns one
};

/// Parses a POST /v1/requests body.
result<submission> parse_submission(std::string_view body);

/// The `command` values of provisioning.commands: provision, then the
/// lifecycle actions of the catalog.
inline constexpr auto command_names = [] {
  std::array<std::string_view, 1 + events::lifecycle_actions.size()> names{"provision"};
  for (std::size_t i = 0; i < events::lifecycle_actions.size(); ++i) names[i + 1] = events::lifecycle_actions[i];
  return names;
}();

/// One command of provisioning.commands.
struct kafka_command {
  std::string command_id;
  std::string name;  ///< one of command_names
  std::string tenant_id;
  std::string request_id;          ///< lifecycle: the target; provision: the chosen id, or empty
  events::request_submitted spec;  ///< provision only
  bool is_provision() const { return name == command_names[0]; }
};

/// The largest command value taken (errc::too_large above it).
inline constexpr std::size_t max_command_bytes = 1 << 20;

/// Parses one record value of provisioning.commands.
result<kafka_command> parse_command(std::string_view value);

/// "cmd/<commandId>": the dedupe key its effect is recorded with, so a
/// redelivered command is a no-op.
std::string dedupe_key(const kafka_command& c);

}  // namespace provisiond::gateway
