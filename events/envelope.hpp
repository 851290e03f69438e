#pragma once
/// The stored form of an event: identity, position and metadata around the
/// encoded payload.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace provisiond::events {

/// One stored event. `payload` is the codec's JSON for (type, schema_version).
struct envelope {
  std::string event_id;  ///< "<request-id>:<seq>"
  std::string stream;    ///< "request-<request-id>"
  std::uint64_t sequence = 0;         ///< 1, 2, 3 ... within the stream
  std::uint64_t global_position = 0;  ///< 1, 2, 3 ... across the journal
  std::string type;
  std::uint32_t schema_version = 1;
  time_ms time = 0;
  std::uint64_t fencing_token = 0;  ///< lock generation of the writer (0 = none)
  std::string payload;
  /// The hash chain (events/chain.hpp), 32 raw bytes each; both empty for an
  /// event written before the journal hashed its events.
  std::string previous_hash;
  std::string hash;
};

/// "<request-id>:<seq>" for a request stream, "<stream>:<seq>" otherwise.
std::string event_id_of(const std::string& stream, std::uint64_t sequence);

/// "request-<id>".
std::string stream_for_request(const std::string& request_id);
/// The request id inside a stream name, or "" if it is not a request stream.
std::string request_of_stream(const std::string& stream);

/// The admin streams: the cluster registry, tenant quotas, approval rules,
/// tenant webhook endpoints.
inline constexpr const char* clusters_stream = "clusters";
inline constexpr const char* quotas_stream = "tenant-quotas";
inline constexpr const char* rules_stream = "approval-rules";
inline constexpr const char* webhooks_stream = "webhooks";
inline constexpr const char* api_keys_stream = "api-keys";
inline bool is_admin_stream(const std::string& stream) {
  return stream == clusters_stream || stream == quotas_stream || stream == rules_stream || stream == webhooks_stream ||
         stream == api_keys_stream;
}

/// "webhook-deliveries-<tenant>": a tenant's settled webhook deliveries.
inline std::string webhook_deliveries_stream(const std::string& tenant) { return "webhook-deliveries-" + tenant; }
/// The tenant of such a stream, or "".
inline std::string tenant_of_webhook_deliveries(const std::string& stream) {
  constexpr std::string_view prefix = "webhook-deliveries-";
  return stream.rfind(prefix, 0) == 0 ? stream.substr(prefix.size()) : std::string{};
}

}  // namespace provisiond::events
