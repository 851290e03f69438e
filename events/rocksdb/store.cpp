#include "events/rocksdb/store.hpp"

#include <filesystem>

#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>

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
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
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
