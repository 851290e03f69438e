#pragma once
/// OIDC access tokens: compact JWS signed RS256 or ES256 by a key of the
/// identity provider's JWKS, checked for `iss`, `aud`, `exp` and `nbf`
/// within a bounded clock skew, then mapped to a provisiond role and tenant
/// by configuration. Signatures are verified by OpenSSL (EVP_DigestVerify);
/// `alg: none`, HS256 and every other algorithm are refused, and a key is
/// only used for the algorithm of its type (so an RSA public key can never
/// serve as an HMAC secret).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/principal.hpp"
#include "auth/settings.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace provisiond::auth {


/// The keys of a JWKS, by kid. Opaque: OpenSSL stays in jwt.cpp.
class key_set;

/// Parses a JWKS document (RSA keys with n/e, EC P-256 keys with x/y;
/// other key types and `use` other than "sig" are skipped).
result<std::shared_ptr<const key_set>> parse_jwks(const std::string& json_text);
std::size_t key_count(const key_set& keys) noexcept;

/// Where the current key set comes from, with caching and rotation.
class jwks_source {
 public:
  /// `fetch` reads jwks_url (the http client, injected so this stays Beast-free).
  jwks_source(jwt_settings s, std::shared_ptr<clock> time,
              std::function<result<std::string>(const std::string& url)> fetch);
  /// The current keys; refreshed from the file when it changed, or from the
  /// URL when due. `unknown_kid` asks for a refresh now (rate-limited).
  result<std::shared_ptr<const key_set>> keys(bool unknown_kid = false);

 private:
  result<std::shared_ptr<const key_set>> reload();
  jwt_settings settings_;
  std::shared_ptr<clock> clock_;
  std::function<result<std::string>(const std::string&)> fetch_;
  std::mutex mutex_;
  std::shared_ptr<const key_set> current_;
  time_ms loaded_at_ = 0;
  time_ms last_forced_ = 0;
  time_ms attempted_at_ = 0;  ///< the last fetch tried (for a source that never loaded)
  std::int64_t file_mtime_ns_ = -1;
};

/// Why a token was refused (the reason goes into the audit line and the
/// 401's message; never the token).
struct token_refusal {
  std::string reason;  ///< "malformed", "algorithm", "signature", "expired", "not_yet_valid", "issuer", "audience", "unknown_key", "no_role", "no_tenant"
  std::string message;
};

/// Verifies `token` and maps its claims; a principal or why not.
std::variant<principal, token_refusal> verify_jwt(const std::string& token, jwks_source& keys, const jwt_settings& s,
                                                  time_ms now);

}  // namespace provisiond::auth
