#pragma once
/// How deliveries are stored in the view store (`wh/d/<id>` the record,
/// `wh/e/<endpoint>/<inverted position>` the history index, `wh/p/<id>` the
/// pending set, `wh/f/<endpoint>` failed deliveries in a row) and their ids.
/// Internal to webhooks/.

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "webhooks/deliveries.hpp"

namespace provisiond::webhooks::rows {

/// A stored delivery: the delivery and where its current round of attempts began.
struct stored {
  delivery d;
  std::size_t round_start = 0;  ///< index of the first attempt since (re)queued
};

std::string record_key(const std::string& id);
std::string pending_key(const std::string& id);
std::string failures_key(const std::string& webhook_id);
/// Newest first: the key sorts by the inverted position.
std::string history_key(const std::string& webhook_id, std::uint64_t position);

std::string to_store(const stored& s);
result<stored> from_store(const std::string& text);

/// Lower-case hex of `bytes` random bytes.
std::string random_hex(std::size_t bytes);

}  // namespace provisiond::webhooks::rows
