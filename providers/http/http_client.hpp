#pragma once
/// The HTTP(S) client every REST provider uses (OpenStack, Kubernetes, ...):
/// Boost.Beast over plain TCP or TLS (OpenSSL; peer and host name verified by
/// default, a configurable CA bundle, SNI), idle connections reused per
/// host, a timeout on connect and on every read and write, and a limit on
/// the response size. Beast lives in http_client.cpp only. Thread-safe:
/// calls on different threads use different connections.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace provisiond::providers::http {

struct client_options {
  std::string ca_file;          ///< PEM bundle; empty: the system's default paths
  bool verify_peer = true;      ///< false only for an explicitly insecure dev cluster
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{30000};  ///< each write and each read of a reply
  /// Non-zero: the whole call (connect, TLS, write, the reply) ends by then,
  /// however the server paces its bytes (a webhook's 10 s).
  std::chrono::milliseconds total_timeout{0};
  std::size_t max_response_bytes = 16 << 20;
  std::size_t max_idle_per_host = 4;
};

struct request {
  std::string method = "GET";
  std::string url;  ///< http(s)://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct response {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// Errors: errc::retryable with field "timeout" or "connect" (nothing was
/// answered; a POST may still have happened), errc::permanent with field
/// "tls" (the peer could not be verified) or "url", errc::too_large.
class client {
 public:
  explicit client(client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  result<response> send(const request& r) { return send(r, {}); }
  /// With `connect_address` non-empty: connects to that numeric address
  /// (IPv4 or IPv6) instead of resolving the URL's host, which still names
  /// the server (Host header, SNI, the certificate's name). A webhook
  /// connects to the address its SSRF check approved, never to a second
  /// resolution.
  result<response> send(const request& r, const std::string& connect_address);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Splits "https://host:port/p?q" into its parts, or says why not.
struct url_parts {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  ///< path and query, at least "/"
};
result<url_parts> parse_url(const std::string& url);

}  // namespace provisiond::providers::http
