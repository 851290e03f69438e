#include "auth/jwt.hpp"

#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "auth/crypto.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"

namespace provisiond::auth {

using nlohmann::json;

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

enum class key_kind { rsa, ec_p256 };

struct bn_free {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

bn_ptr bignum(const std::string& big_endian) {
  return bn_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                          static_cast<int>(big_endian.size()), nullptr));
}

// EVP_PKEY_fromdata from a parameter builder's contents.
pkey_ptr from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey_ptr(key);
}

pkey_ptr rsa_key(const std::string& n, const std::string& e) {
  auto bn_n = bignum(n), bn_e = bignum(e);
  if (!bn_n || !bn_e || BN_num_bits(bn_n.get()) < 2048) return nullptr;  // short RSA keys are refused
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) return nullptr;
  pkey_ptr key;
  if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1)
    key = from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

pkey_ptr ec_key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) return nullptr;
  pkey_ptr key;
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1)
    key = from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

std::string field(const json& j, const std::string& name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

class key_set {
 public:
  struct entry {
    key_kind kind;
    std::shared_ptr<EVP_PKEY> key;
  };
  std::map<std::string, entry> by_kid;
};

std::size_t key_count(const key_set& keys) noexcept { return keys.by_kid.size(); }

result<std::shared_ptr<const key_set>> parse_jwks(const std::string& json_text) {
  auto parsed = parse_json(json_text, "JWKS");
  json doc = parsed ? std::move(*parsed) : json();
  if (!parsed || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return make_error(errc::invalid_argument, "expected a JWKS document {\"keys\": [...]}", "jwks");
  auto out = std::make_shared<key_set>();
  for (const auto& k : doc["keys"]) {
    if (!k.is_object()) continue;
    auto kid = field(k, "kid"), kty = field(k, "kty"), use = field(k, "use");
    if (!use.empty() && use != "sig") continue;
    pkey_ptr key;
    key_kind kind{};
    if (kty == "RSA") {
      auto n = base64url_decode(field(k, "n")), e = base64url_decode(field(k, "e"));
      if (n && e) key = rsa_key(*n, *e);
      kind = key_kind::rsa;
    } else if (kty == "EC" && field(k, "crv") == "P-256") {
      auto x = base64url_decode(field(k, "x")), y = base64url_decode(field(k, "y"));
      if (x && y) key = ec_key(*x, *y);
      kind = key_kind::ec_p256;
    }
    if (key) out->by_kid[kid] = key_set::entry{kind, std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free)};
  }
  return std::shared_ptr<const key_set>(std::move(out));
}

jwks_source::jwks_source(jwt_settings s, std::shared_ptr<clock> time,
                         std::function<result<std::string>(const std::string&)> fetch)
    : settings_(std::move(s)), clock_(std::move(time)), fetch_(std::move(fetch)) {}

result<std::shared_ptr<const key_set>> jwks_source::reload() {
  std::string text;
  if (!settings_.jwks_file.empty()) {
    std::ifstream in(settings_.jwks_file);
    if (!in) return make_error(errc::unavailable, "cannot read the JWKS file", "auth.jwt.jwksFile");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else {
    if (!fetch_) return make_error(errc::unavailable, "no way to fetch the JWKS", "auth.jwt.jwksUrl");
    auto got = fetch_(settings_.jwks_url);
    if (!got) return got.error();
    text = std::move(*got);
  }
  auto keys = parse_jwks(text);
  if (!keys) return keys.error();
  return keys;
}

result<std::shared_ptr<const key_set>> jwks_source::keys(bool unknown_kid) {
  std::lock_guard lock{mutex_};
  auto now = clock_->now();
  bool due = !current_;
  if (!settings_.jwks_file.empty()) {
    // Rotation on disk: the file is re-read when its mtime moves.
    struct stat st{};
    std::int64_t mtime = ::stat(settings_.jwks_file.c_str(), &st) == 0
                             ? std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec
                             : -1;
    due = due || mtime != file_mtime_ns_;
    file_mtime_ns_ = mtime;
  } else {
    due = due || now - loaded_at_ >= time_ms{settings_.jwks_refresh_s} * 1000;
    // A kid we do not know may be a key the IdP just rotated in: look once,
    // but never more than every 30 s, so bad tokens cannot hammer the IdP.
    if (unknown_kid && now - last_forced_ >= 30'000) {
      due = true;
      last_forced_ = now;
    }
  }
  if (!due) return current_;
  // Never loaded (the IdP down since the start): try again at most every
  // 5 s, so a stream of tokens does not become a stream of fetches.
  if (!current_ && settings_.jwks_file.empty() && attempted_at_ && now - attempted_at_ < 5'000)
    return make_error(errc::unavailable, "the identity provider's keys are not available yet", "auth.jwt.jwksUrl");
  attempted_at_ = now;
  auto fresh = reload();
  if (!fresh) {
    if (current_) return current_;  // keep serving the last good keys through an IdP outage
    return fresh.error();
  }
  current_ = std::move(*fresh);
  loaded_at_ = now;
  return current_;
}

namespace {

token_refusal refuse(std::string reason, std::string message) { return {std::move(reason), std::move(message)}; }

bool verify_signature(const key_set::entry& k, const std::string& signing_input, const std::string& sig) {
  std::string der;
  if (k.kind == key_kind::ec_p256) {
    // JWS ES256 signatures are r || s (RFC 7518 §3.4); OpenSSL wants DER.
    if (sig.size() != 64) return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(es);
      return false;
    }
    unsigned char* out = nullptr;
    int n = i2d_ECDSA_SIG(es, &out);
    ECDSA_SIG_free(es);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
  }
  const std::string& signature = k.kind == key_kind::ec_p256 ? der : sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool good = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, k.key.get()) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                               reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return good;
}

std::optional<std::int64_t> number_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return std::nullopt;
}

std::vector<std::string> string_list(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    std::istringstream in(v.get<std::string>());
    for (std::string w; in >> w;) out.push_back(w);
  } else if (v.is_array()) {
    for (auto& e : v)
      if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

std::variant<principal, token_refusal> verify_jwt(const std::string& token, jwks_source& keys, const jwt_settings& s,
                                                  time_ms now) {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string::npos ? std::string::npos : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos)
    return refuse("malformed", "expected a compact JWS: header.payload.signature");
  auto header_raw = base64url_decode(std::string_view(token).substr(0, dot1));
  auto payload_raw = base64url_decode(std::string_view(token).substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(std::string_view(token).substr(dot2 + 1));
  if (!header_raw || !payload_raw || !sig) return refuse("malformed", "a token part is not base64url");
  // The project's bounded parser: depth, sizes and duplicate keys checked
  // (a duplicated claim must not mean one thing here and another elsewhere).
  auto header_json = parse_json(*header_raw, "token header");
  auto claims_json = parse_json(*payload_raw, "token claims");
  if (!header_json || !claims_json || !header_json->is_object() || !claims_json->is_object())
    return refuse("malformed", "a token part is not a JSON object");
  const json& header = *header_json;
  const json& claims = *claims_json;
  auto alg = field(header, "alg");
  if (alg != "RS256" && alg != "ES256")
    return refuse("algorithm", "alg " + (alg.empty() ? std::string("(none)") : alg) + " is not accepted; expected RS256 or ES256");
  if (header.contains("crit")) return refuse("malformed", "critical header parameters are not supported");
  auto kid = field(header, "kid");
  auto set = keys.keys();
  if (!set) return refuse("unknown_key", "the identity provider's keys are not available");
  auto it = (*set)->by_kid.find(kid);
  if (it == (*set)->by_kid.end()) {
    set = keys.keys(true);
    if (!set) return refuse("unknown_key", "the identity provider's keys are not available");
    it = (*set)->by_kid.find(kid);
    if (it == (*set)->by_kid.end()) return refuse("unknown_key", "no key with this kid in the JWKS");
  }
  auto want = alg == "RS256" ? key_kind::rsa : key_kind::ec_p256;
  if (it->second.kind != want) return refuse("algorithm", "alg " + alg + " does not match the key's type");
  if (!verify_signature(it->second, token.substr(0, dot2), *sig)) return refuse("signature", "bad signature");

  const std::int64_t now_s = now / 1000, skew = s.clock_skew_s;
  if (field(claims, "iss") != s.issuer) return refuse("issuer", "iss is not the configured issuer");
  auto aud = string_list(claims.value("aud", json{}));
  if (std::find(aud.begin(), aud.end(), s.audience) == aud.end())
    return refuse("audience", "aud does not name this service");
  auto exp = number_claim(claims, "exp");
  if (!exp) return refuse("malformed", "exp is required");
  if (now_s >= *exp + skew) return refuse("expired", "the token expired");
  if (auto nbf = number_claim(claims, "nbf"); nbf && now_s + skew < *nbf)
    return refuse("not_yet_valid", "the token is not valid yet (nbf)");

  std::optional<role> best;
  for (auto& v : string_list(claims.value(s.roles_claim, json{}))) {
    auto m = s.role_map.find(v);
    auto r = parse_role(m != s.role_map.end() ? m->second : v);
    if (r && (!best || *r > *best)) best = r;
  }
  if (!best) return refuse("no_role", "the token grants no provisiond role (claim " + s.roles_claim + ")");
  principal p{*best, {}, *best == role::tenant_readonly, "jwt:" + field(claims, "sub")};
  if (p.tenant_scoped()) {
    p.tenant = field(claims, s.tenant_claim);
    if (!is_valid_id(p.tenant))
      return refuse("no_tenant", "a tenant role needs the " + s.tenant_claim + " claim");
  }
  return p;
}

}  // namespace provisiond::auth
