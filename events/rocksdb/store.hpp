#pragma once
/// The RocksDB database behind the journal and the read models: one DB with
/// column families for events, stream index, metadata, outbox, dedupe records
/// views, and sealed secrets. Only adapters (events/rocksdb, projections/rocksdb) see it.

#include <memory>
#include <string>

#include <rocksdb/db.h>

#include "common/settings.hpp"
#include "common/result.hpp"

namespace provisiond::events::rocksdb_adapter {

class store {
 public:
  /// RocksDB's memory bound: the shared block cache, which also carries the
  /// memtables of every column family (at most `memtable_bytes` of it).
  static constexpr std::size_t block_cache_bytes = 128 << 20;
  static constexpr std::size_t memtable_bytes = 64 << 20;
  /// Opens (creating if missing) the database in `dir`.
  static result<std::shared_ptr<store>> open(const std::string& dir, durability mode);
  ~store();

  rocksdb::DB* db() const noexcept { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events() const noexcept { return cfs_[1]; }
  rocksdb::ColumnFamilyHandle* streams() const noexcept { return cfs_[2]; }
  rocksdb::ColumnFamilyHandle* meta() const noexcept { return cfs_[3]; }
  rocksdb::ColumnFamilyHandle* outbox() const noexcept { return cfs_[4]; }
  rocksdb::ColumnFamilyHandle* dedupe() const noexcept { return cfs_[5]; }
  rocksdb::ColumnFamilyHandle* views() const noexcept { return cfs_[6]; }
  rocksdb::ColumnFamilyHandle* secrets() const noexcept { return cfs_[7]; }
  /// Write options for the configured durability.
  const rocksdb::WriteOptions& write_options() const noexcept { return write_options_; }
  durability mode() const noexcept { return mode_; }

 private:
  store() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  rocksdb::WriteOptions write_options_;
  durability mode_ = durability::durable;
};

/// Big-endian 8-byte key for a number, so keys sort numerically.
std::string be64(std::uint64_t v);
std::uint64_t read_be64(const char* p) noexcept;

}  // namespace provisiond::events::rocksdb_adapter
