#pragma once
/// Partition leases with fencing tokens on Redis. A lease is
/// `SET <key> <owner>:<token> NX PX <ttl>`; renewal and release compare the
/// value first (Lua), so only the holder extends or frees it. The token comes
/// from `INCR` on a counter in the same script, raised to `floor + 1` when
/// the counter is lower — the caller passes the highest token it has seen in
/// the journal, so a Redis restart without persistence never hands out a
/// token that goes backwards.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "events/redis/redis_client.hpp"

namespace provisiond::events::redis {

struct lease {
  std::string key;
  std::string owner;
  std::uint64_t token = 0;
};

class lease_store {
 public:
  /// `prefix` namespaces the keys, e.g. "provisiond:" → "provisiond:lease:<name>".
  lease_store(std::shared_ptr<client> redis, std::string prefix);

  /// Takes the lease `name` for `owner` for `ttl_ms`, with a token above
  /// `floor`; nullopt when another owner holds it.
  result<std::optional<lease>> acquire(const std::string& name, const std::string& owner, std::uint64_t ttl_ms,
                                       std::uint64_t floor);
  /// Extends a held lease; false when it was lost (expired, or taken by another).
  result<bool> renew(const lease& l, std::uint64_t ttl_ms);
  /// Frees a held lease; false when it was not ours any more. Idempotent.
  result<bool> release(const lease& l);
  /// The holder's "<owner>:<token>", if any.
  result<std::optional<std::string>> holder(const std::string& name);

 private:
  std::string key(const std::string& name) const { return prefix_ + "lease:" + name; }
  std::shared_ptr<client> redis_;
  std::string prefix_;
};

}  // namespace provisiond::events::redis
