#pragma once
/// Standard base64 (RFC 4648, with padding), through OpenSSL.

#include <string>

#include "common/result.hpp"

namespace provisiond {

std::string base64_encode(const std::string& raw);
result<std::string> base64_decode(const std::string& text);

}  // namespace provisiond
