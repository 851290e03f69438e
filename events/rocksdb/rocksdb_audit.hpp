#pragma once
/// Reads a stopped journal's RocksDB column families as stored, byte for
/// byte, and runs the audit checks (events/audit.hpp) over them.

#include <optional>
#include <string>

#include "events/audit.hpp"
#include "events/rocksdb/store.hpp"

namespace provisiond::events::rocksdb_adapter {

/// Checks every stream's chain (only `only_stream`'s when set), then the
/// global order, both copies of each event (only `only_stream`'s when set)
/// and every checkpoint (with `key`; always all of them). Stops at the first broken link. Errors only when the database
/// cannot be read, or `only_stream` has no events (not_found).
result<audit_report> verify_journal(const store& db, const std::optional<checkpoint_key>& key,
                                    const std::string& only_stream = "");

}  // namespace provisiond::events::rocksdb_adapter
