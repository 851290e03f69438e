#pragma once
/// journal implemented on RocksDB with group commit: one writer thread takes
/// every queued append, checks them in order, and writes them as one
/// WriteBatch (one fsync in durable mode).

#include <memory>

#include "events/journal.hpp"
#include "events/rocksdb/store.hpp"

namespace provisiond::events::rocksdb_adapter {

/// Creates the journal over an open store. Stops its writer thread on destruction
/// after finishing queued appends.
std::shared_ptr<journal> make_journal(std::shared_ptr<store> db);

/// Binary envelope encoding used in the events and streams column families.
std::string encode_envelope(const envelope& e);
result<envelope> decode_envelope(std::string_view bytes);

}  // namespace provisiond::events::rocksdb_adapter
