#pragma once
/// The one way JSON enters provisiond: a parser that enforces a nesting
/// limit while it reads (so no later copy, dump or visitor can recurse
/// deeper than the limit), refuses duplicate keys and control characters,
/// and reports where it stopped as a field path ("metadata.a[3]"). Also a
/// dump that never throws. Every JSON input — HTTP bodies, Kafka commands,
/// stored events, provider replies, the config file — goes through here.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace provisiond {

/// Limits of one parse. The defaults suit every input provisiond reads
/// (the largest string it keeps is a PEM bundle of a few KiB; a parser's own
/// field limits are tighter still).
struct json_limits {
  std::size_t max_depth = 64;  ///< arrays and objects nested at most this deep
  bool allow_duplicate_keys = false;
  /// Strings may hold TAB, LF and CR (a PEM key, a comment) but no other
  /// C0 control character and no DEL.
  bool allow_control_chars = false;
  std::size_t max_string_bytes = 64 * 1024;  ///< a string or a key, in UTF-8 bytes
  std::size_t max_items = 10'000;            ///< elements of one array, members of one object
};

/// Parses `text`. Errors are invalid_argument with the field path where the
/// parse stopped ("$" for the document itself): "<what> is not valid JSON",
/// a nesting over the limit, a duplicate key, a control character, a string
/// or an array/object over its size limit, ill-formed UTF-8 in a string, a
/// number beyond what a double holds (1e999). The path names the value
/// (`metadata.plan`, `dependsOn[3]`) or, for a bad key, its object. Messages
/// never quote the input's bytes. Never throws.
result<nlohmann::json> parse_json(std::string_view text, const char* what = "body", const json_limits& limits = {});

/// For replies of other systems (clouds) and provisiond's own stored
/// records: the same depth limit; duplicate keys, control characters and
/// strings and arrays of any size tolerated; a discarded value (is_discarded()) when unreadable. Never throws.
nlohmann::json parse_json_lenient(std::string_view text);

/// Serialises without throwing: bytes that are not UTF-8 (which no parsed
/// input holds, but a header or a provider string might) become U+FFFD.
std::string dump_json(const nlohmann::json& j);

/// Limits of a value kept as it was sent (a cluster's connection, a
/// request's metadata): depth, number of keys in all, and serialised size.
struct kept_value_limits {
  std::size_t max_depth = 4;
  std::size_t max_keys = 64;
  std::size_t max_bytes = 16 * 1024;
};

/// Checks a kept value against its limits; the error names `field` (or the
/// path below it where the depth limit was hit).
status check_kept_value(const nlohmann::json& j, const std::string& field, const kept_value_limits& limits = {});

/// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code
/// points past U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace provisiond
