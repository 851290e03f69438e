#include "events/rocksdb/store.hpp"

#include <filesystem>

#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_buffer_manager.h>

namespace provisiond::events::rocksdb_adapter {

std::string be64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

std::uint64_t read_be64(const char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

result<std::shared_ptr<store>> store::open(const std::string& dir, durability mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(errc::unavailable, "cannot create data directory " + dir + ": " + ec.message(), "dataDir");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  // Memory with a bound: one block cache for every column family, and the
  // memtables of all of them charged to it through one write-buffer
  // manager, so RocksDB holds at most ~block_cache_bytes whatever the
  // number of requests (README, "Memory").
  auto cache = rocksdb::NewLRUCache(block_cache_bytes);
  options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(memtable_bytes, cache);
  options.write_buffer_size = 16 << 20;
  options.max_write_buffer_number = 2;
  options.max_open_files = 512;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions cf_options{options};
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {"default", "events", "streams", "meta", "outbox", "dedupe", "views", "secrets"})
    descriptors.emplace_back(name, cf_options);
  std::shared_ptr<store> s{new store};
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(rocksdb::DBOptions{options}, dir, descriptors, &s->cfs_, &raw);
  if (!st.ok()) return make_error(errc::unavailable, "cannot open journal in " + dir + ": " + st.ToString(), "dataDir");
  s->db_.reset(raw);
  s->mode_ = mode;
  s->write_options_.sync = mode == durability::durable;
  return s;
}

store::~store() {
  if (db_) {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close();
  }
}

}  // namespace provisiond::events::rocksdb_adapter
