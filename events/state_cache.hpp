#pragma once
/// The state of a request right after one of its events, for readers that
/// walk the journal in order (the Kafka relay, the webhook projection) and
/// need tenant, order and state beside each event. Requests still moving
/// stay folded in memory; one that has come to rest is folded again from
/// its stream if it ever moves again, so the cache follows the work in
/// flight, not the number of requests (and holds at most 10,000). Not
/// thread-safe: one per reader.

#include <memory>
#include <string>
#include <unordered_map>

#include "common/result.hpp"
#include "events/journal.hpp"
#include "events/request_state.hpp"

namespace provisiond::events {

class state_cache {
 public:
  explicit state_cache(std::shared_ptr<journal> j) : journal_(std::move(j)) {}
  /// The state after `env` (an event of a request stream, decoded as `e`).
  result<request_state> after(const envelope& env, const event& e);

 private:
  std::shared_ptr<journal> journal_;
  std::unordered_map<std::string, request_state> states_;
};

}  // namespace provisiond::events
