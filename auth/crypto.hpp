#pragma once
/// The few OpenSSL calls auth needs, wrapped: random tokens, SHA-256, a
/// constant-time comparison, base64url. Nothing here is hand-rolled crypto.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace provisiond::auth {

/// `bytes` random bytes (RAND_bytes) as unpadded base64url.
result<std::string> random_token(std::size_t bytes);
/// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
/// Equal, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;
/// RFC 4648 §5 without padding; nullopt-like error for anything else.
result<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view raw);

}  // namespace provisiond::auth
