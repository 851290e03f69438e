#include "auth/api_keys.hpp"

#include <algorithm>

#include "auth/crypto.hpp"
#include "common/ids.hpp"

namespace provisiond::auth {

namespace ev = provisiond::events;

namespace {

constexpr std::string_view prefix = "pvd_";
constexpr std::size_t id_bytes = 9;       // 12 base64url characters
constexpr std::size_t secret_bytes = 32;  // 43 base64url characters

bool base64url_text(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

api_key_store::api_key_store(std::shared_ptr<ev::journal> journal, std::shared_ptr<clock> time)
    : clock_(std::move(time)), stream_(std::move(journal), ev::api_keys_stream) {}

void api_key_store::fold(const ev::event& e) {
  if (auto* k = std::get_if<ev::api_key_issued>(&e)) {
    auto r = parse_role(k->role);
    if (!r) return;  // a role this build does not know grants nothing
    record rec;
    rec.info = api_key_info{k->key_id, k->name, *r, k->tenant_id, k->read_only, k->created_at, k->created_by, 0, 0};
    rec.secret_sha256 = k->secret_sha256;
    keys_[k->key_id] = std::move(rec);
  } else if (auto* v = std::get_if<ev::api_key_revoked>(&e)) {
    if (auto it = keys_.find(v->key_id); it != keys_.end()) it->second.info.revoked_at = v->at;
  }
}

status api_key_store::refresh_locked() {
  auto evs = stream_.unread();
  if (!evs) return evs.error();
  for (auto& e : *evs) fold(e);
  return ok();
}

status api_key_store::load() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

status api_key_store::refresh() {
  std::lock_guard lock{mutex_};
  return refresh_locked();
}

void api_key_store::share(std::function<std::optional<std::uint64_t>()> token) {
  std::lock_guard lock{mutex_};
  stream_.share(std::move(token));
}

result<issued_key> api_key_store::issue(const std::string& name, role r, const std::string& tenant, bool read_only,
                                        const std::string& created_by) {
  bool tenant_role = r == role::tenant || r == role::tenant_readonly;
  if (tenant_role && !is_valid_id(tenant))
    return make_error(errc::invalid_argument, "required for the tenant roles: a tenant id", "tenantId");
  if (!tenant_role && !tenant.empty())
    return make_error(errc::invalid_argument, "only the tenant roles are bound to a tenant", "tenantId");
  auto id = random_token(id_bytes);
  auto secret = random_token(secret_bytes);
  if (!id) return id.error();
  if (!secret) return secret.error();
  ev::api_key_issued e{*id,       name, std::string(to_string(r)), tenant, read_only || r == role::tenant_readonly,
                       sha256_hex(*secret), clock_->now(), created_by};
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st.error();
  if (auto st = stream_.append(e, e.created_at); !st) return st.error();
  fold(e);
  return issued_key{keys_.at(*id).info, std::string(prefix) + *id + "_" + *secret};
}

status api_key_store::revoke(const std::string& id, const std::string& by) {
  std::lock_guard lock{mutex_};
  if (auto st = refresh_locked(); !st) return st;
  auto it = keys_.find(id);
  if (it == keys_.end()) return make_error(errc::not_found, "no API key " + id);
  if (it->second.info.revoked_at) return ok();
  ev::api_key_revoked e{id, clock_->now(), by};
  if (auto st = stream_.append(e, e.at); !st) return st;
  fold(e);
  return ok();
}

std::vector<api_key_info> api_key_store::list() const {
  std::lock_guard lock{mutex_};
  std::vector<api_key_info> out;
  for (auto& [id, rec] : keys_) out.push_back(rec.info);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created_at < b.created_at; });
  return out;
}

std::optional<api_key_info> api_key_store::get(const std::string& id) const {
  std::lock_guard lock{mutex_};
  auto it = keys_.find(id);
  if (it == keys_.end()) return std::nullopt;
  return it->second.info;
}

bool api_key_store::looks_like_key(std::string_view presented) noexcept { return presented.starts_with(prefix); }

std::optional<principal> api_key_store::verify(std::string_view presented) {
  if (!presented.starts_with(prefix)) return std::nullopt;
  presented.remove_prefix(prefix.size());
  // The id is base64url and may itself hold '_': its length is fixed.
  constexpr std::size_t id_len = (id_bytes * 4 + 2) / 3;
  if (presented.size() <= id_len + 1 || presented[id_len] != '_') return std::nullopt;
  auto id = presented.substr(0, id_len);
  auto secret = presented.substr(id_len + 1);
  if (!base64url_text(id) || !base64url_text(secret) || secret.size() > 64) return std::nullopt;
  auto digest = sha256_hex(secret);
  std::lock_guard lock{mutex_};
  auto it = keys_.find(std::string(id));
  if (it == keys_.end() || it->second.info.revoked_at) return std::nullopt;
  if (!constant_time_equal(digest, it->second.secret_sha256)) return std::nullopt;
  it->second.info.last_used_at = clock_->now();
  const auto& i = it->second.info;
  return principal{i.r, i.tenant, i.read_only, "key:" + i.id};
}

}  // namespace provisiond::auth
