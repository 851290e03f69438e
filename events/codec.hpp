#pragma once
/// Versioned JSON codec for domain events. Each type has a wire name and a
/// current schema version; older versions are upcast on decode.

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/envelope.hpp"

namespace provisiond::events {

/// Current schema version written for the event's type.
std::uint32_t schema_version(const event& e) noexcept;

/// The payload JSON of an event.
std::string encode_payload(const event& e);

/// Decodes a payload of the given wire type and schema version.
result<event> decode_payload(std::string_view type, std::uint32_t version, std::string_view payload);

/// Decodes an envelope's payload.
inline result<event> decode(const envelope& env) {
  return decode_payload(env.type, env.schema_version, env.payload);
}

}  // namespace provisiond::events
