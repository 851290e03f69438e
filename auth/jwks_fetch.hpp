#pragma once
/// How a JWKS URL is read: GET over the shared HTTP(S) client (10 s in all,
/// at most 1 MiB, the peer verified against `ca_file` or the system's CAs).

#include <functional>
#include <string>

#include "common/result.hpp"

namespace provisiond::auth {

std::function<result<std::string>(const std::string& url)> jwks_fetcher(const std::string& ca_file);

}  // namespace provisiond::auth
