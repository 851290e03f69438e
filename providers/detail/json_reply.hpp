#pragma once
/// A REST reply with its body parsed as JSON (discarded when it is not),
/// shared by the REST providers.

#include <string>

#include <nlohmann/json.hpp>

#include "providers/http/http_client.hpp"
#include "common/json.hpp"

namespace provisiond::providers::detail {

struct json_reply {
  int status = 0;
  nlohmann::json body;  ///< is_discarded() when the body is not JSON
  std::string raw;
  std::string retry_after;
};

inline json_reply to_json_reply(http::response&& r) {
  json_reply out;
  out.status = r.status;
  out.retry_after = r.header("retry-after");
  out.raw = std::move(r.body);
  out.body = parse_json_lenient(out.raw);
  return out;
}

}  // namespace provisiond::providers::detail
