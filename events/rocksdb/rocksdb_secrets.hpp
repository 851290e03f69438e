#pragma once
/// The secret store in the `secrets` column family of the journal's database.

#include <memory>

#include "common/secret_box.hpp"
#include "events/rocksdb/store.hpp"
#include "events/secret_store.hpp"

namespace provisiond::events::rocksdb_adapter {

std::shared_ptr<secret_store> make_secret_store(std::shared_ptr<store> db, secret_box box);

}  // namespace provisiond::events::rocksdb_adapter
