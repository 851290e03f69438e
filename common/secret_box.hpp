#pragma once
/// Sealing secrets at rest: AES-256-GCM with a random 96-bit nonce per value
/// (OpenSSL). The key is 32 random bytes in a file that only the service
/// account may read. Plaintexts never leave this module except through open().

#include <array>
#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace provisiond {

class secret_box {
 public:
  using key = std::array<unsigned char, 32>;
  explicit secret_box(const key& k) : key_(k) {}

  /// Loads the key from `path`, creating it (mode 0600, random) if missing.
  static result<secret_box> from_key_file(const std::string& path);

  /// "v1." + base64(nonce | ciphertext | tag). `context` (e.g. the record's
  /// name) is bound as associated data: a sealed value moved to another
  /// record does not open.
  result<std::string> seal(const std::string& plaintext, const std::string& context) const;
  result<std::string> open(const std::string& sealed, const std::string& context) const;

 private:
  key key_;
};

}  // namespace provisiond
