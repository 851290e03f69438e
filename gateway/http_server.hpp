#pragma once
/// A small HTTP/1.1 server (Boost.Beast, kept in http_server.cpp alone) that
/// hands each parsed request to one handler function. Keep-alive, a body
/// limit (413 above it), 400 for unparsable requests or a target or header
/// value that is not clean UTF-8 (see http_target.hpp), `Expect:
/// 100-continue`, header/body/idle timeouts and connection limits (503 above
/// them) from `http_limits`.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/settings.hpp"
#include "common/result.hpp"
#include "gateway/http_target.hpp"

namespace provisiond::gateway {

struct http_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< raw target with the query string
  std::string path;    ///< decoded path without the query
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Runs on the server's I/O threads; may block briefly.
using http_handler = std::function<http_response(const http_request&)>;

class http_server {
 public:
  /// Binds and starts serving on `threads` threads. Port 0 picks a free port.
  /// `limits` bounds connections, header/body/idle times and the body size.
  /// Registers the gauge provisiond_http_connections and the counter
  /// provisiond_http_connections_refused_total{reason} in the global registry.
  static result<std::unique_ptr<http_server>> start(const std::string& host, std::uint16_t port, int threads,
                                                    http_handler handler, const http_limits& limits = http_limits{});
  virtual ~http_server() = default;
  virtual std::uint16_t port() const = 0;
  /// Stops accepting, closes connections, joins threads. Safe to call twice.
  virtual void stop() = 0;
};

}  // namespace provisiond::gateway
