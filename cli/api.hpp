#pragma once
/// provisionctl's calls to the provisiond API, on the project's shared HTTP
/// client (providers/http): one call, one reply, the bearer token attached.
/// HTTP errors are replies (their status decides the exit code); a call
/// that got no answer is a reply with status 0 and the reason.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.hpp"
#include "cli/settings.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::cli {

struct reply {
  int status = 0;       ///< 0: nothing answered (see failure)
  std::string body;     ///< as received
  nlohmann::json json;  ///< the body parsed; discarded (is_discarded) if it is not JSON
  std::string failure;  ///< why nothing was answered
  bool ok() const { return status >= 200 && status < 300; }
  exit_code code() const { return exit_for_status(status); }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

class api {
 public:
  explicit api(settings s);

  reply get(const std::string& target) { return call("GET", target, std::nullopt); }
  /// `target` is the path and query ("/v1/requests?tenantId=acme"); a body
  /// is sent as application/json.
  reply call(const std::string& method, const std::string& target, const std::optional<std::string>& body,
             const header_list& extra = {});
  const settings& config() const { return settings_; }
  /// The headers every call carries (Authorization, User-Agent); the stream
  /// reader sends the same.
  header_list common_headers() const;

 private:
  settings settings_;
  providers::http::client client_;
};

/// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
std::string encode_component(std::string_view text);

/// What went wrong, for stderr: the API's message and field, or the status
/// and the start of a body that is not the API's error shape, or why
/// nothing was answered. Control characters are escaped.
std::string describe_failure(const reply& r, const std::string& url);

}  // namespace provisiond::cli
