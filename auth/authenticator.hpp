#pragma once
/// Who is calling: an API key or an OIDC token in `Authorization: Bearer`,
/// or a client certificate the TLS listener verified (mTLS). The gateway
/// asks once per HTTP request, before the route table; what a route needs
/// is declared there (gateway/routes.cpp). Thread-safe.
///
/// Credentials:
/// - `pvd_<id>_<secret>`: an API key (auth/api_keys.hpp), or the bootstrap
///   admin key: on first start provisiond creates one, prints it once and
///   writes it to a 0600 file in the data folder (`auth.adminKeyFile`), so
///   the embedded default stays two commands. Every instance that reads the
///   same file accepts it; `auth.bootstrapAdminKey: false` turns it off once
///   real keys exist.
/// - anything else after `Bearer`: a JWT (auth/jwt.hpp) when `auth.jwt` is set.
/// - no Authorization header: the client certificate's subject, if
///   `auth.clientCertificates` maps it to a role.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "auth/api_keys.hpp"
#include "auth/jwt.hpp"
#include "auth/principal.hpp"
#include "auth/settings.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace provisiond::auth {

/// What authentication found.
struct outcome {
  std::optional<principal> who;  ///< set: authenticated
  /// Not authenticated: "" when no credentials were given (anonymous),
  /// else why they were refused ("malformed", "unknown_key", "expired", ...).
  std::string refusal;
  std::string message;
};

class authenticator {
 public:
  /// Reads (or, first start, creates) the bootstrap admin key; sets
  /// `*created` to the new key when it made one (print it once).
  static result<std::unique_ptr<authenticator>> make(settings s, const std::string& data_dir,
                                                     std::shared_ptr<api_key_store> keys, std::shared_ptr<clock> time,
                                                     std::function<result<std::string>(const std::string&)> fetch,
                                                     std::string* created);

  outcome authenticate(const std::string& authorization, const std::string& peer_subject);
  const settings& config() const noexcept { return settings_; }
  api_key_store& keys() noexcept { return *keys_; }

 private:
  authenticator(settings s, std::shared_ptr<api_key_store> keys, std::shared_ptr<clock> time,
                std::function<result<std::string>(const std::string&)> fetch);
  settings settings_;
  std::shared_ptr<api_key_store> keys_;
  std::shared_ptr<clock> clock_;
  std::unique_ptr<jwks_source> jwks_;
  std::string bootstrap_sha256_;  ///< empty: no bootstrap key
};

/// The audit of access: a denied call, an admin change. One JSON line each
/// (log::audit) and a counter (provisiond_auth_denied_total{reason},
/// provisiond_admin_changes_total); ids and reasons only, never a credential.
void audit_denied(const std::string& method, const std::string& path, int status, const std::string& reason,
                  const std::string& subject);
void audit_admin_change(const std::string& method, const std::string& path, int status, const std::string& subject);

}  // namespace provisiond::auth
