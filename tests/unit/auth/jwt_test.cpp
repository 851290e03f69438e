// The token checks on a manual clock, and the JWKS source's refresh rules:
// a URL is fetched when its keys are due, and an unknown kid asks again at
// most every 30 s (bad tokens cannot hammer the identity provider); the last
// good keys stay through an outage.
#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "tests/support/jwt_issuer.hpp"

namespace provisiond::auth {
namespace {

using provisiond::testing::jwks_of;
using provisiond::testing::signing_key;

struct Jwt : ::testing::Test {
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
  signing_key rsa{signing_key::rsa, "a"};
  signing_key ec{signing_key::ec, "b"};
  std::string served;  // what the "IdP" answers
  int fetches = 0;
  bool down = false;
  jwt_settings settings() const {
    jwt_settings s;
    s.issuer = "https://idp";
    s.audience = "svc";
    s.jwks_url = "https://idp/jwks";
    s.clock_skew_s = 30;
    return s;
  }
  std::unique_ptr<jwks_source> source() {
    return std::make_unique<jwks_source>(settings(), clock, [this](const std::string&) -> result<std::string> {
      ++fetches;
      if (down) return make_error(errc::unavailable, "down");
      return served;
    });
  }
  nlohmann::json claims(std::int64_t exp_in = 600) const {
    auto now = clock->now() / 1000;
    return {{"iss", "https://idp"}, {"aud", "svc"}, {"sub", "u"}, {"exp", now + exp_in}, {"roles", {"saga"}}};
  }
  bool accepted(jwks_source& src, const std::string& token) {
    return std::holds_alternative<principal>(verify_jwt(token, src, settings(), clock->now()));
  }
  std::string reason(jwks_source& src, const std::string& token) {
    auto v = verify_jwt(token, src, settings(), clock->now());
    return std::holds_alternative<token_refusal>(v) ? std::get<token_refusal>(v).reason : "accepted";
  }
};

TEST_F(Jwt, AcceptsBothAlgorithmsAndMapsTheRole) {
  served = jwks_of({&rsa, &ec});
  auto src = source();
  auto v = verify_jwt(rsa.sign(claims()), *src, settings(), clock->now());
  ASSERT_TRUE(std::holds_alternative<principal>(v));
  EXPECT_EQ(std::get<principal>(v).r, role::saga);
  EXPECT_EQ(std::get<principal>(v).subject, "jwt:u");
  EXPECT_TRUE(accepted(*src, ec.sign(claims())));
}

TEST_F(Jwt, ExpiryAndNotBeforeHoldWithinTheSkewOnly) {
  served = jwks_of({&rsa});
  auto src = source();
  auto token = rsa.sign(claims(60));
  EXPECT_TRUE(accepted(*src, token));
  clock->advance(60'000 + 29'000);  // 29 s past exp: within the 30 s skew
  EXPECT_TRUE(accepted(*src, token));
  clock->advance(2'000);
  EXPECT_EQ(reason(*src, token), "expired");
  auto c = claims();
  c["nbf"] = clock->now() / 1000 + 60;
  EXPECT_EQ(reason(*src, rsa.sign(c)), "not_yet_valid");
}

TEST_F(Jwt, AnUnknownKidIsLookedUpAtMostEvery30Seconds) {
  served = jwks_of({&rsa});
  auto src = source();
  EXPECT_TRUE(accepted(*src, rsa.sign(claims())));
  EXPECT_EQ(fetches, 1);
  signing_key next{signing_key::ec, "next"};
  // Not there yet: one look now, then none for 30 s however many tokens come.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(reason(*src, next.sign(claims())), "unknown_key");
  EXPECT_EQ(fetches, 2);
  served = jwks_of({&rsa, &next});
  clock->advance(10'000);
  EXPECT_EQ(reason(*src, next.sign(claims())), "unknown_key");
  EXPECT_EQ(fetches, 2);
  clock->advance(21'000);
  EXPECT_TRUE(accepted(*src, next.sign(claims())));  // rotated in
  EXPECT_EQ(fetches, 3);
}

TEST_F(Jwt, TheLastGoodKeysServeThroughAnOutageAndRefreshWhenDue) {
  served = jwks_of({&rsa});
  auto src = source();
  EXPECT_TRUE(accepted(*src, rsa.sign(claims())));
  down = true;
  clock->advance(301'000);  // due for a refresh, but the IdP is down
  EXPECT_TRUE(accepted(*src, rsa.sign(claims())));
  EXPECT_EQ(fetches, 2);
  down = false;
  served = jwks_of({&ec});  // the RSA key retired
  clock->advance(301'000);
  EXPECT_EQ(reason(*src, rsa.sign(claims())), "unknown_key");
  EXPECT_TRUE(accepted(*src, ec.sign(claims())));
}

TEST_F(Jwt, ForgeriesAndMalformedTokensAreRefusedWithTheirReason) {
  served = jwks_of({&rsa, &ec});
  auto src = source();
  EXPECT_EQ(reason(*src, provisiond::testing::unsigned_token(claims(), "a")), "algorithm");
  EXPECT_EQ(reason(*src, provisiond::testing::hs256_token(claims(), "a", rsa.public_pem())), "algorithm");
  EXPECT_EQ(reason(*src, rsa.sign(claims(), "b")), "algorithm");  // RS256 under the EC key's kid
  EXPECT_EQ(reason(*src, "a.b"), "malformed");
  EXPECT_EQ(reason(*src, "a.b.c.d"), "malformed");
  EXPECT_EQ(reason(*src, "!!.??.**"), "malformed");
  auto t = rsa.sign(claims());
  // A character inside the signature (the last one may carry only padding bits).
  auto& ch = t[t.rfind('.') + 10];
  ch = ch == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(*src, t), "signature");
  // Deep or duplicated JSON in a token part is malformed, never a crash.
  std::string deep(5000, '[');
  EXPECT_EQ(reason(*src, provisiond::testing::b64url(deep) + ".e30.AA"), "malformed");
  EXPECT_EQ(reason(*src, provisiond::testing::b64url(R"({"alg":"RS256","alg":"none"})") + ".e30.AA"), "malformed");
  auto c = claims();
  c["roles"] = {"nothing-we-know"};
  EXPECT_EQ(reason(*src, rsa.sign(c)), "no_role");
  c["roles"] = "tenant";  // a space-separated string works too, but a tenant needs its claim
  EXPECT_EQ(reason(*src, rsa.sign(c)), "no_tenant");
  c["tenant_id"] = "acme";
  EXPECT_TRUE(accepted(*src, rsa.sign(c)));
}

TEST_F(Jwt, AnIdentityProviderDownSinceTheStartIsAskedAtMostEvery5Seconds) {
  down = true;
  auto src = source();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(reason(*src, rsa.sign(claims())), "unknown_key");
  EXPECT_EQ(fetches, 1);
  down = false;
  served = jwks_of({&rsa});
  clock->advance(5'000);
  EXPECT_TRUE(accepted(*src, rsa.sign(claims())));
  EXPECT_EQ(fetches, 2);
}

TEST(Jwks, SkipsKeysItCannotUse) {
  signing_key rsa{signing_key::rsa, "ok"};
  nlohmann::json doc{{"keys",
                      {rsa.jwk(),
                       {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                       {{"kty", "RSA"}, {"kid", "short"}, {"n", "AQAB"}, {"e", "AQAB"}},
                       {{"kty", "EC"}, {"kid", "p384"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}},
                       {{"kty", "RSA"}, {"kid", "enc"}, {"use", "enc"}, {"n", rsa.jwk()["n"]}, {"e", "AQAB"}}}}};
  auto keys = parse_jwks(doc.dump());
  ASSERT_TRUE(keys);
  EXPECT_EQ(key_count(**keys), 1u);
  EXPECT_FALSE(parse_jwks("[]"));
  EXPECT_FALSE(parse_jwks("not json"));
}

}  // namespace
}  // namespace provisiond::auth
