#pragma once
/// A test identity provider: RSA and EC P-256 signing keys made with
/// OpenSSL, their JWKS, and compact JWS tokens signed RS256 or ES256 (or
/// forged: `alg: none`, HS256 keyed with the public key). Test-only.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace provisiond::testing {

inline std::string b64url(const std::string& raw) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(raw[k]); };
  for (; i + 2 < raw.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += tbl[(v >> s) & 63];
  }
  if (raw.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
  } else if (raw.size() - i == 2) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
  }
  return out;
}

class signing_key {
 public:
  enum kind { rsa, ec };
  signing_key(kind k, std::string kid) : kind_(k), kid_(std::move(kid)) {
    key_ = k == rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!key_) throw std::runtime_error("key generation failed");
  }
  ~signing_key() { EVP_PKEY_free(key_); }
  signing_key(const signing_key&) = delete;
  signing_key& operator=(const signing_key&) = delete;

  const std::string& kid() const { return kid_; }
  const char* alg() const { return kind_ == rsa ? "RS256" : "ES256"; }

  nlohmann::json jwk() const {
    if (kind_ == rsa) {
      return {{"kty", "RSA"}, {"kid", kid_}, {"use", "sig"}, {"alg", "RS256"}, {"n", b64url(bn(OSSL_PKEY_PARAM_RSA_N))},
              {"e", b64url(bn(OSSL_PKEY_PARAM_RSA_E))}};
    }
    unsigned char pub[65];
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len);
    std::string p(reinterpret_cast<char*>(pub), len);
    return {{"kty", "EC"}, {"kid", kid_}, {"use", "sig"}, {"crv", "P-256"}, {"x", b64url(p.substr(1, 32))},
            {"y", b64url(p.substr(33, 32))}};
  }

  /// The public key as PEM (what an HS256 forgery would key its HMAC with).
  std::string public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  }

  /// header.payload.signature, signed with this key (kid set unless told otherwise).
  std::string sign(const nlohmann::json& claims, const std::string& kid_override = "") const {
    nlohmann::json header{{"alg", alg()}, {"typ", "JWT"}, {"kid", kid_override.empty() ? kid_ : kid_override}};
    std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::vector<unsigned char> sig(n);
    EVP_DigestSign(ctx, sig.data(), &n, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    std::string s(reinterpret_cast<char*>(sig.data()), n);
    if (kind_ == ec) {  // DER → r || s
      const unsigned char* p = sig.data();
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(n));
      unsigned char rs[64];
      BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
      ECDSA_SIG_free(es);
      s.assign(reinterpret_cast<char*>(rs), 64);
    }
    return input + "." + b64url(s);
  }

 private:
  std::string bn(const char* name) const {
    BIGNUM* b = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &b);
    std::string out(static_cast<std::size_t>(BN_num_bytes(b)), '\0');
    BN_bn2bin(b, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(b);
    return out;
  }
  kind kind_;
  std::string kid_;
  EVP_PKEY* key_ = nullptr;
};

inline std::string jwks_of(const std::vector<const signing_key*>& keys) {
  nlohmann::json arr = nlohmann::json::array();
  for (auto* k : keys) arr.push_back(k->jwk());
  return nlohmann::json{{"keys", arr}}.dump();
}

/// `alg: none`: no signature at all.
inline std::string unsigned_token(const nlohmann::json& claims, const std::string& kid) {
  return b64url(nlohmann::json{{"alg", "none"}, {"kid", kid}}.dump()) + "." + b64url(claims.dump()) + ".";
}

/// HS256 keyed with `secret` (the classic forgery: the RSA public key as the HMAC secret).
inline std::string hs256_token(const nlohmann::json& claims, const std::string& kid, const std::string& secret) {
  std::string input = b64url(nlohmann::json{{"alg", "HS256"}, {"kid", kid}}.dump()) + "." + b64url(claims.dump());
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return input + "." + b64url(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace provisiond::testing
