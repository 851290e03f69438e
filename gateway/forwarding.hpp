#pragma once
/// Scale-out: a write (POST) for a tenant another instance owns is answered
/// by that instance. The tenant is the body's `tenantId` for
/// POST /v1/requests, the request's own tenant (read model) for
/// /v1/requests/{id}/.... Admin writes (POST/PUT/DELETE of clusters and
/// approval rules, PUT of a quota) belong to the partition of
/// `admin_partition_key`, whose owner writes the admin streams; so do the
/// writes of tenant webhook endpoints. A GET of a request's credentials goes
/// to the request's owner too (delivered once), and so does everything about
/// a tenant's webhook deliveries (history, redelivery, test): the owner
/// delivers and holds the attempts.
/// The write is proxied to the owner's advertised
/// address unchanged (one hop: a forwarded write is never forwarded again),
/// and its answer (202, 400, 409, ...) is returned as it is. While the
/// tenant's partition moves between instances the answer is 503 with
/// Retry-After: 1.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "gateway/http_server.hpp"

namespace provisiond::projections {
class request_summary_projection;
}

namespace provisiond::gateway {

/// What the forwarder needs to know about partition ownership.
struct ownership_view {
  std::string instance_id;
  std::function<std::int32_t(const std::string& tenant)> partition_of;
  std::function<bool(std::int32_t)> owned_here;  ///< the lease is held here now
  std::function<bool(std::int32_t)> moving;      ///< being restored or handed over
  /// The owner's "host:port", if any instance holds the partition.
  std::function<std::optional<std::string>(std::int32_t)> owner_address;
  /// At most this many writes are proxied at once; one more is answered 503
  /// with Retry-After: 1. Keep it below the HTTP threads: a thread that
  /// waits for the owner cannot serve what the owner forwards here, and two
  /// instances whose every thread waits for the other would wait forever.
  int max_forwarding = 1;
};

/// Returns the owner's answer, a 503 while the partition moves, or nullopt
/// when the write is this instance's to handle. Thread-safe; never throws.
using forwarder = std::function<std::optional<http_response>(const http_request&)>;
forwarder make_forwarder(ownership_view view, projections::request_summary_projection* summaries);

}  // namespace provisiond::gateway
