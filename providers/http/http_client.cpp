// The only translation unit of the providers that includes Boost.Beast.
#include "providers/http/http_client.hpp"

#include <algorithm>
#include <deque>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

namespace provisiond::providers::http {

namespace beast = boost::beast;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

result<url_parts> parse_url(const std::string& url) {
  // A space or a control byte would end the request line or start a header
  // of its own: never sent, and not echoed either.
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f)
      return make_error(errc::permanent, "a URL must not hold spaces or control characters (percent-encode them)", "url");
  url_parts u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return make_error(errc::permanent, "expected an http:// or https:// URL, got " + url, "url");
  }
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (hostport.empty()) return make_error(errc::permanent, "no host in URL " + url, "url");
  if (hostport.front() == '[') {  // [v6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) return make_error(errc::permanent, "bad IPv6 host in " + url, "url");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') u.port = hostport.substr(close + 2);
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = hostport.substr(colon + 1);
  } else {
    u.host = hostport;
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.port.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::permanent, "bad port in URL " + url, "url");
  return u;
}

namespace {

// One connection with its own io_context, so a call can run it with timeouts
// without touching anyone else's.
struct connection {
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

error io_error(const beast::error_code& ec, const char* what, const url_parts& u) {
  std::string where = u.host + ":" + u.port;
  if (ec == beast::error::timeout)
    return make_error(errc::retryable, std::string(what) + " to " + where + " timed out", "timeout");
  // A failed handshake (an unverifiable peer) is a setting to fix; a TLS
  // stream cut off later (a dropped answer) is a transport failure like any other.
  bool tls = ec.category() == asio::error::get_ssl_category() || ec.category() == ssl::error::get_stream_category();
  if (tls && std::string_view(what) == "TLS handshake")
    return make_error(errc::permanent, std::string("TLS with ") + where + " failed: " + ec.message(), "tls");
  if (tls) return make_error(errc::retryable, std::string(what) + " from " + where + " failed: " + ec.message(), "connect");
  return make_error(errc::retryable, std::string(what) + " to " + where + " failed: " + ec.message(), "connect");
}

// Runs one async operation to completion (or its timeout) on the connection's context.
template <class Start>
beast::error_code run(connection& c, Start start) {
  beast::error_code out;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    out = ec;
    done = true;
  });
  c.ioc.restart();
  c.ioc.run();
  if (!done) out = asio::error::operation_aborted;
  return out;
}

}  // namespace

struct client::impl {
  client_options opts;
  ssl::context tls{ssl::context::tls_client};
  std::mutex mutex;
  std::map<std::string, std::deque<std::unique_ptr<connection>>> idle;  // by scheme://host:port
  std::string tls_setup_error;

  explicit impl(client_options o) : opts(std::move(o)) {
    beast::error_code ec;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (opts.ca_file.empty()) tls.set_default_verify_paths(ec);
    else tls.load_verify_file(opts.ca_file, ec);
    if (ec) tls_setup_error = "cannot load CA bundle " + opts.ca_file + ": " + ec.message();
    tls.set_verify_mode(opts.verify_peer ? ssl::verify_peer : ssl::verify_none);
  }

  using deadline = std::chrono::steady_clock::time_point;
  // One operation's limit: its own timeout, cut to what is left of the call's.
  static std::chrono::milliseconds limit(std::chrono::milliseconds op, deadline end) {
    if (end == deadline::max()) return op;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    return std::max(std::chrono::milliseconds(1), std::min(op, left));
  }

  result<std::unique_ptr<connection>> open(const url_parts& u, const std::string& address, deadline end) {
    auto c = std::make_unique<connection>();
    tcp::resolver resolver{c->ioc};
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    if (address.empty()) {
      endpoints = resolver.resolve(u.host, u.port, ec);
    } else {
      // A numeric address resolves to itself: no name lookup happens.
      endpoints = resolver.resolve(address, u.port, tcp::resolver::numeric_host | tcp::resolver::numeric_service, ec);
    }
    if (ec) return make_error(errc::retryable, "cannot resolve " + u.host + ": " + ec.message(), "connect");
    if (u.tls) {
      if (!tls_setup_error.empty()) return make_error(errc::permanent, tls_setup_error, "tls");
      c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(c->ioc, tls);
      // SNI, and the name the certificate must carry.
      if (!SSL_set_tlsext_host_name(c->secure->native_handle(), u.host.c_str()))
        return make_error(errc::permanent, "cannot set SNI for " + u.host, "tls");
      if (opts.verify_peer) c->secure->set_verify_callback(ssl::host_name_verification(u.host));
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(c->ioc);
    }
    auto& low = c->lowest();
    low.expires_after(limit(opts.connect_timeout, end));
    ec = run(*c, [&](auto handler) { low.async_connect(endpoints, handler); });
    if (ec) return io_error(ec, "connect", u);
    if (c->secure) {
      low.expires_after(limit(opts.connect_timeout, end));
      ec = run(*c, [&](auto handler) { c->secure->async_handshake(ssl::stream_base::client, handler); });
      if (ec) return io_error(ec, "TLS handshake", u);
    }
    return c;
  }

  result<response> exchange(connection& c, const url_parts& u, const request& r, bool* reusable, deadline end) {
    beast::http::request<beast::http::string_body> req;
    req.method_string(r.method);
    req.target(u.target);
    req.version(11);
    bool default_port = u.port == (u.tls ? "443" : "80");
    auto host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;  // an IPv6 literal
    req.set(beast::http::field::host, default_port ? host : host + ":" + u.port);
    req.set(beast::http::field::user_agent, "provisiond");
    for (auto& [k, v] : r.headers) req.set(k, v);
    req.body() = r.body;
    req.prepare_payload();
    c.lowest().expires_after(limit(opts.io_timeout, end));
    auto ec = c.secure ? run(c, [&](auto h) { beast::http::async_write(*c.secure, req, h); })
                       : run(c, [&](auto h) { beast::http::async_write(*c.plain, req, h); });
    if (ec) return io_error(ec, "write", u);
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(opts.max_response_bytes);
    parser.header_limit(64 * 1024);
    auto too_large = [&] {
      return make_error(errc::too_large, "response from " + u.host + " is over " +
                                             std::to_string(opts.max_response_bytes) + " bytes");
    };
    // The header first: a declared length over the limit is refused before
    // any of the body is read (the parser's own limit is the second guard,
    // for chunked bodies).
    c.lowest().expires_after(limit(opts.io_timeout, end));
    ec = c.secure ? run(c, [&](auto h) { beast::http::async_read_header(*c.secure, c.buffer, parser, h); })
                  : run(c, [&](auto h) { beast::http::async_read_header(*c.plain, c.buffer, parser, h); });
    if (ec == beast::http::error::body_limit) return too_large();
    if (ec) return io_error(ec, "read", u);
    if (auto len = parser.content_length(); len && *len > opts.max_response_bytes) return too_large();
    if (!parser.is_done()) {
      c.lowest().expires_after(limit(opts.io_timeout, end));
      ec = c.secure ? run(c, [&](auto h) { beast::http::async_read(*c.secure, c.buffer, parser, h); })
                    : run(c, [&](auto h) { beast::http::async_read(*c.plain, c.buffer, parser, h); });
      if (ec == beast::http::error::body_limit) return too_large();
      if (ec) return io_error(ec, "read", u);
    }
    if (parser.get().body().size() > opts.max_response_bytes) return too_large();
    auto msg = parser.release();
    response out;
    out.status = static_cast<int>(msg.result_int());
    for (auto& f : msg) {
      std::string name{f.name_string()};
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers[name] = std::string{f.value()};
    }
    out.body = std::move(msg.body());
    *reusable = msg.keep_alive();
    return out;
  }
};

client::client(client_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
client::~client() = default;

result<response> client::send(const request& r, const std::string& connect_address) {
  auto u = parse_url(r.url);
  if (!u) return u.error();
  std::string key = (u->tls ? "https://" : "http://") + u->host + ":" + u->port;
  if (!connect_address.empty()) key += "@" + connect_address;
  // An idle connection may have been closed by the server meanwhile: a
  // failure on a reused one is retried once on a fresh connection (and the
  // other idle ones to that host are dropped: they idled as long).
  bool idempotent = r.method == "GET" || r.method == "HEAD" || r.method == "PUT" || r.method == "DELETE";
  auto end = impl_->opts.total_timeout.count() > 0 ? std::chrono::steady_clock::now() + impl_->opts.total_timeout
                                                   : impl::deadline::max();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<connection> c;
    bool reused = false;
    {
      std::lock_guard lock{impl_->mutex};
      auto& q = impl_->idle[key];
      if (!q.empty()) {
        c = std::move(q.back());
        q.pop_back();
        reused = true;
      }
    }
    if (!c) {
      auto fresh = impl_->open(*u, connect_address, end);
      if (!fresh) return fresh.error();
      c = std::move(*fresh);
    }
    bool reusable = false;
    auto out = impl_->exchange(*c, *u, r, &reusable, end);
    // Only an idempotent request is sent again by itself: a POST whose answer
    // was lost may have been carried out (the caller reconciles first).
    if (!out && reused && idempotent && out.error().code == errc::retryable) {
      // The others idle as long are as likely closed: the retry opens a fresh one.
      std::lock_guard lock{impl_->mutex};
      impl_->idle[key].clear();
      continue;
    }
    if (out && reusable) {
      std::lock_guard lock{impl_->mutex};
      auto& q = impl_->idle[key];
      if (q.size() < impl_->opts.max_idle_per_host) q.push_back(std::move(c));
    }
    return out;
  }
  return make_error(errc::retryable, "connection to " + key + " keeps closing", "connect");
}

}  // namespace provisiond::providers::http
