#pragma once
/// Pure checks of what an HTTP client sends before a handler sees it: the
/// request target (percent-decoded path and query) and header values. No
/// Beast here, so the rules are unit-tested without a socket. Stateless and
/// thread-safe.

#include <map>
#include <string>
#include <string_view>

#include "common/json.hpp"  // is_valid_utf8
#include "common/result.hpp"

namespace provisiond::gateway {

/// A request target split into its decoded path and query parameters.
struct parsed_target {
  std::string path;                          ///< decoded, without the query
  std::map<std::string, std::string> query;  ///< decoded; a repeated key keeps its last value
};

/// Percent-decoding for paths and query values ("+" is a space in queries).
/// A '%' not followed by two hex digits stays as it is.
std::string url_decode(std::string_view s, bool plus_is_space);

/// Splits and decodes `target` ("/a/b?k=v&x"). After decoding, every path
/// segment and every query key and value must be UTF-8 without control bytes
/// (0x00-0x1F, 0x7F); otherwise an invalid_argument error whose field names
/// the place ("path segment 3", "query parameter 2", "query parameter tenantId",
/// 1-based) and never echoes the offending bytes.
result<parsed_target> parse_target(std::string_view target);

/// A header value must be UTF-8 without control bytes other than HTAB;
/// otherwise an invalid_argument error whose field is `name` as sent.
status validate_header_value(std::string_view name, std::string_view value);

}  // namespace provisiond::gateway
