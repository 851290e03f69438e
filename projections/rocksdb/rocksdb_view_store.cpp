#include "projections/rocksdb/rocksdb_view_store.hpp"

#include <rocksdb/write_batch.h>

namespace provisiond::projections::rocksdb_adapter {

namespace {

using events::rocksdb_adapter::be64;
using events::rocksdb_adapter::read_be64;

class rocksdb_view_store final : public view_store {
 public:
  explicit rocksdb_view_store(std::shared_ptr<events::rocksdb_adapter::store> db) : db_(std::move(db)) {}

  result<std::optional<std::string>> get(const std::string& key) override {
    std::string v;
    auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->views(), "v/" + key, &v);
    if (st.IsNotFound()) return std::optional<std::string>{};
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    return std::optional<std::string>{std::move(v)};
  }

  status commit(const view_write& w, const std::string& name, std::uint64_t position) override {
    rocksdb::WriteBatch batch;
    for (auto& k : w.deletes) batch.Delete(db_->views(), "v/" + k);
    for (auto& [k, v] : w.puts) batch.Put(db_->views(), "v/" + k, v);
    batch.Put(db_->views(), "checkpoint/" + name, be64(position));
    rocksdb::WriteOptions wo;
    wo.sync = false;
    auto st = db_->db()->Write(wo, &batch);
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    return ok();
  }

  result<std::uint64_t> checkpoint(const std::string& name) override {
    std::string v;
    auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->views(), "checkpoint/" + name, &v);
    if (st.IsNotFound()) return std::uint64_t{0};
    if (!st.ok() || v.size() != 8) return make_error(errc::internal, "bad checkpoint " + name);
    return read_be64(v.data());
  }

  result<std::vector<std::pair<std::string, std::string>>> scan(const std::string& prefix, const std::string& after,
                                                                 std::size_t limit) override {
    std::vector<std::pair<std::string, std::string>> out;
    std::string full = "v/" + prefix;
    std::unique_ptr<rocksdb::Iterator> it{db_->db()->NewIterator(rocksdb::ReadOptions{}, db_->views())};
    if (after.empty()) it->Seek(full);
    else {
      it->Seek("v/" + after);
      if (it->Valid() && it->key() == rocksdb::Slice("v/" + after)) it->Next();
    }
    for (; it->Valid() && it->key().starts_with(full) && out.size() < limit; it->Next())
      out.emplace_back(it->key().ToString().substr(2), it->value().ToString());
    if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
    return out;
  }

  status clear() override {
    auto st = db_->db()->DeleteRange(rocksdb::WriteOptions{}, db_->views(), "", "\xff\xff\xff\xff");
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    return ok();
  }

 private:
  std::shared_ptr<events::rocksdb_adapter::store> db_;
};

}  // namespace

std::shared_ptr<view_store> make_view_store(std::shared_ptr<events::rocksdb_adapter::store> db) {
  return std::make_shared<rocksdb_view_store>(std::move(db));
}

}  // namespace provisiond::projections::rocksdb_adapter
