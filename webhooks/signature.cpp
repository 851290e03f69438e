#include "webhooks/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/base64.hpp"

namespace provisiond::webhooks {

namespace {
constexpr std::string_view prefix = "whsec_";
}

result<std::string> generate_secret() {
  std::string raw(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    return make_error(errc::internal, "no randomness for a webhook secret");
  return std::string(prefix) + base64_encode(raw);
}

result<std::string> sign(const std::string& secret, const std::string& id, std::int64_t timestamp_s,
                         const std::string& body) {
  if (secret.compare(0, prefix.size(), prefix) != 0)
    return make_error(errc::invalid_argument, "expected whsec_ and base64", "secret");
  auto key = base64_decode(secret.substr(prefix.size()));
  if (!key || key->empty()) return make_error(errc::invalid_argument, "expected whsec_ and base64", "secret");
  std::string content = id + "." + std::to_string(timestamp_s) + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &len))
    return make_error(errc::internal, "HMAC-SHA256 failed");
  return "v1," + base64_encode(std::string(reinterpret_cast<char*>(mac), len));
}

result<std::string> signature_header(const std::vector<std::string>& secrets, const std::string& id,
                                     std::int64_t timestamp_s, const std::string& body) {
  std::string out;
  for (auto& s : secrets) {
    auto one = sign(s, id, timestamp_s, body);
    if (!one) return one.error();
    if (!out.empty()) out += ' ';
    out += *one;
  }
  return out;
}

}  // namespace provisiond::webhooks
