#pragma once
/// API keys for services (the Order saga, the CLI, CI): random, shown once,
/// stored hashed, scoped (a role, a tenant for tenant roles, read or
/// write), revocable, with the time each was last used. Event-sourced in
/// the admin stream `api-keys` (api_key_issued / api_key_revoked) and held
/// in memory, like the webhook registry; scaled out, the admin partition's
/// owner writes and the others fold what the replica restores (`refresh`).
///
/// A key reads `pvd_<id>_<secret>`: the id finds the record, the secret's
/// SHA-256 is compared in constant time. The secret is 256 random bits, so a
/// plain hash is enough (nothing to brute-force, unlike a password).
/// Thread-safe; writes block on the journal (call them from request threads).

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/governance/admin_stream.hpp"
#include "auth/principal.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"

namespace provisiond::auth {

/// A key as listed: never its secret.
struct api_key_info {
  std::string id;
  std::string name;
  role r = role::tenant_readonly;
  std::string tenant;
  bool read_only = false;
  time_ms created_at = 0;
  std::string created_by;
  time_ms last_used_at = 0;  ///< 0: never (on this instance since it started; see README)
  time_ms revoked_at = 0;    ///< 0: valid
};

/// What creating a key returns: the one time its secret is shown.
struct issued_key {
  api_key_info info;
  std::string key;  ///< "pvd_<id>_<secret>"
};

class api_key_store {
 public:
  api_key_store(std::shared_ptr<events::journal> journal, std::shared_ptr<clock> time);

  status load();
  void share(std::function<std::optional<std::uint64_t>()> token);
  status refresh();

  /// Issues a key. `tenant` is required for tenant roles and refused for the others.
  result<issued_key> issue(const std::string& name, role r, const std::string& tenant, bool read_only,
                           const std::string& created_by);
  /// Revokes a key (not_found if unknown; a no-op if already revoked).
  status revoke(const std::string& id, const std::string& by);
  std::vector<api_key_info> list() const;
  std::optional<api_key_info> get(const std::string& id) const;

  /// The principal a presented key stands for; nullopt if it is not a
  /// valid, unrevoked key. Records the use.
  std::optional<principal> verify(std::string_view presented);

  /// True if `presented` has a key's shape ("pvd_..."), valid or not.
  static bool looks_like_key(std::string_view presented) noexcept;

 private:
  struct record {
    api_key_info info;
    std::string secret_sha256;
  };
  status refresh_locked();
  void fold(const events::event& e);

  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  actors::admin_stream stream_;
  std::map<std::string, record> keys_;
};

}  // namespace provisiond::auth
