#pragma once
/// A small HTTP/1.1 server (Boost.Beast, kept in http_server.cpp alone) that
/// hands each parsed request to one handler function. Keep-alive and
/// pipelining, HTTP/1.0, a body limit (413 above it), limits of the request
/// head (414, 431; below), 400 for unparsable requests or a target or header
/// value that is not clean UTF-8 (see http_target.hpp), `Expect:
/// 100-continue`, header/body/idle timeouts and connection limits (503 above
/// them) from `http_limits`, and optionally TLS with client certificates
/// (`tls_settings`). Every refusal is the JSON error body
/// `{"error":{"code","field"?,"message"}}`.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/settings.hpp"
#include "gateway/http_target.hpp"

namespace provisiond::gateway {

/// Fixed limits of a request's head. Each refusal answers and closes.
inline constexpr std::size_t max_target_bytes = 8 * 1024;  ///< the request target: 414 uri_too_long
/// The header lines after the request line: 431
/// request_header_fields_too_large (a request line past it is a 414).
inline constexpr std::size_t max_header_block_bytes = 64 * 1024;
inline constexpr std::size_t max_header_line_bytes = 8 * 1024;  ///< one "Name: value": 431 naming it
inline constexpr std::size_t max_header_fields = 100;           ///< header lines: 431 above

struct http_request {
  std::string method;                          ///< "GET", "POST", ...
  std::string target;                          ///< raw target with the query string
  std::string path;                            ///< decoded path without the query
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  /// The subject (RFC 2253, e.g. "CN=order-saga,O=platform") of the client
  /// certificate the TLS handshake verified against http.tls.clientCaFile;
  /// empty without TLS or without a verified certificate.
  std::string peer_subject;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// A response body written piece by piece while the connection stays open
/// (Server-Sent Events). The server asks for the next piece on its I/O
/// thread once the previous one is written, and again every `poll_ms` while
/// there is nothing; it must not block.
class body_stream {
 public:
  virtual ~body_stream() = default;
  /// Bytes to write now; "" = nothing yet; nullopt = the body is over (the
  /// connection closes).
  virtual std::optional<std::string> next() = 0;
  /// The piece being written has taken `slow_ms`: the reader is not keeping
  /// up. The next `next()` should end the body (with a last word).
  virtual void reader_is_slow() = 0;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set: `body` is written first, then the stream's pieces until it ends or
  /// the client goes; the connection is not reused (no Content-Length).
  std::shared_ptr<body_stream> stream;
  int poll_ms = 100;
  int slow_ms = 5000;  ///< a piece still unwritten after this: reader_is_slow()
};

/// Runs on the server's I/O threads; may block briefly.
using http_handler = std::function<http_response(const http_request&)>;

class http_server {
 public:
  /// Binds and starts serving on `threads` threads. Port 0 picks a free port.
  /// `limits` bounds connections, header/body/idle times and the body size.
  /// With `tls.cert_file` set the listener speaks only TLS (1.2 or later);
  /// an unreadable certificate, key or CA file is an invalid_argument error
  /// naming `http.tls.<field>`. Registers the gauge
  /// provisiond_http_connections and the counter
  /// provisiond_http_connections_refused_total{reason} in the global registry.
  static result<std::unique_ptr<http_server>> start(const std::string& host, std::uint16_t port, int threads,
                                                    http_handler handler, const http_limits& limits = http_limits{},
                                                    const tls_settings& tls = tls_settings{});
  virtual ~http_server() = default;
  virtual std::uint16_t port() const = 0;
  /// Stops accepting, closes connections, joins threads. Safe to call twice.
  virtual void stop() = 0;
};

}  // namespace provisiond::gateway
