#include "auth/jwks_fetch.hpp"

#include <chrono>

#include "providers/http/http_client.hpp"

namespace provisiond::auth {

std::function<result<std::string>(const std::string& url)> jwks_fetcher(const std::string& ca_file) {
  return [ca_file](const std::string& url) -> result<std::string> {
    providers::http::client_options o;
    o.ca_file = ca_file;
    o.total_timeout = std::chrono::milliseconds(10'000);
    o.max_response_bytes = 1 << 20;
    providers::http::client http{o};
    auto r = http.send(providers::http::request{"GET", url, {{"Accept", "application/json"}}, {}});
    if (!r) return r.error();
    if (r->status != 200)
      return make_error(errc::unavailable, "the JWKS URL answered " + std::to_string(r->status), "auth.jwt.jwksUrl");
    return r->body;
  };
}

}  // namespace provisiond::auth
