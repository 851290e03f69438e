#pragma once
/// Standard Webhooks 1.0 signing (https://www.standardwebhooks.com): the
/// secret a tenant is given, and the `webhook-signature` header any of its
/// libraries verifies: `v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>`,
/// space-separated during a secret rotation. OpenSSL does the HMAC; the
/// comparison a receiver makes is its own (constant-time in the libraries).

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace provisiond::webhooks {

/// "whsec_" + base64 of 32 random bytes.
result<std::string> generate_secret();

/// "v1,<base64>" for one secret ("whsec_..."); invalid_argument if the
/// secret is not "whsec_" + base64.
result<std::string> sign(const std::string& secret, const std::string& id, std::int64_t timestamp_s,
                         const std::string& body);

/// The header value: one signature per secret, space-separated.
result<std::string> signature_header(const std::vector<std::string>& secrets, const std::string& id,
                                     std::int64_t timestamp_s, const std::string& body);

}  // namespace provisiond::webhooks
