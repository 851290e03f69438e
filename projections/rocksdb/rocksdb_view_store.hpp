#pragma once
#include <memory>

#include "events/rocksdb/store.hpp"
#include "projections/view_store.hpp"

namespace provisiond::projections::rocksdb_adapter {

/// Views in the journal database's "views" column family. Writes are not
/// fsynced: a view lost with its checkpoint is rebuilt from the journal.
std::shared_ptr<view_store> make_view_store(std::shared_ptr<events::rocksdb_adapter::store> db);

}  // namespace provisiond::projections::rocksdb_adapter
