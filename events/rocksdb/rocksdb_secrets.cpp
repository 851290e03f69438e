#include "events/rocksdb/rocksdb_secrets.hpp"

namespace provisiond::events::rocksdb_adapter {

namespace {

class rocksdb_secret_store final : public secret_store {
 public:
  rocksdb_secret_store(std::shared_ptr<store> db, secret_box box) : db_(std::move(db)), box_(box) {}

  status put(const std::string& name, const std::string& plaintext) override {
    auto sealed = box_.seal(plaintext, name);
    if (!sealed) return sealed.error();
    rocksdb::WriteOptions w;
    w.sync = true;  // a secret acknowledged to the caller survives a crash
    auto st = db_->db()->Put(w, db_->secrets(), name, *sealed);
    if (!st.ok()) return make_error(errc::unavailable, "secret store write failed: " + st.ToString());
    return ok();
  }

  result<std::optional<std::string>> get(const std::string& name) override {
    std::string sealed;
    auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->secrets(), name, &sealed);
    if (st.IsNotFound()) return std::optional<std::string>{};
    if (!st.ok()) return make_error(errc::unavailable, "secret store read failed: " + st.ToString());
    auto plain = box_.open(sealed, name);
    if (!plain) return plain.error();
    return std::optional<std::string>{std::move(*plain)};
  }

  status erase(const std::string& name) override {
    rocksdb::WriteOptions w;
    w.sync = true;
    auto st = db_->db()->Delete(w, db_->secrets(), name);
    if (!st.ok()) return make_error(errc::unavailable, "secret store delete failed: " + st.ToString());
    return ok();
  }

 private:
  std::shared_ptr<store> db_;
  secret_box box_;
};

}  // namespace

std::shared_ptr<secret_store> make_secret_store(std::shared_ptr<store> db, secret_box box) {
  return std::make_shared<rocksdb_secret_store>(std::move(db), box);
}

}  // namespace provisiond::events::rocksdb_adapter
