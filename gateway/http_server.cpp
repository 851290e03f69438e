// The only translation unit that includes Boost.Beast (each costs ~30 s and
// ~800 MB to compile).
#include <utility>

#include "gateway/http_server.hpp"

#include <atomic>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace provisiond::gateway {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

namespace {

http_request to_request(const http::request<http::string_body>& r) {
  http_request out;
  out.method = std::string(r.method_string());
  out.target = std::string(r.target());
  auto q = out.target.find('?');
  out.path = url_decode(std::string_view(out.target).substr(0, q), false);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(out.target).substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto part = rest.substr(0, amp);
      auto eq = part.find('=');
      if (!part.empty())
        out.query[url_decode(part.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string{} : url_decode(part.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  for (const auto& f : r) {
    std::string name{f.name_string()};
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = r.body();
  return out;
}

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, const http_handler& handler, std::size_t body_limit)
      : stream_(std::move(socket)), handler_(handler), body_limit_(body_limit) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof) return close();
    if (ec == http::error::body_limit) return fail(413, "payload_too_large", "request body is over the 1 MiB limit");
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return;
    if (ec) return fail(400, "invalid_argument", "malformed HTTP request: " + ec.message());
    auto req = parser_->release();
    http_response res;
    try {
      res = handler_(to_request(req));
    } catch (const std::exception& e) {
      res.status = 500;
      res.body = R"({"error":{"code":"internal","message":"unexpected error"}})";
    }
    write(std::move(res), req.keep_alive(), req.version());
  }

  void fail(int status, const char* code, const std::string& message) {
    http_response res;
    res.status = status;
    std::string safe;
    for (char c : message) safe += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    res.body = std::string(R"({"error":{"code":")") + code + R"(","message":")" + safe + "\"}}";
    write(std::move(res), false, 11);
  }

  void write(http_response res, bool keep_alive, unsigned version) {
    auto msg = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(res.status), version);
    msg->set(http::field::server, "provisiond");
    msg->set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) msg->set(k, v);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    http::async_write(stream_, *msg, [self = shared_from_this(), msg](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!msg->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const http_handler& handler_;
  std::size_t body_limit_;
};

class beast_server final : public http_server {
 public:
  beast_server(http_handler handler, std::size_t body_limit, int threads)
      : handler_(std::move(handler)), body_limit_(body_limit), threads_(threads), acceptor_(ioc_) {}
  ~beast_server() override { stop(); }

  status listen(const std::string& host, std::uint16_t port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return make_error(errc::invalid_argument, "not an IP address: " + host, "listen");
    tcp::endpoint ep{addr, port};
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(errc::unavailable, "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message(), "listen");
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < threads_; ++i) pool_.emplace_back([this] { ioc_.run(); });
    return ok();
  }

  std::uint16_t port() const override { return port_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    for (auto& t : pool_)
      if (t.joinable()) t.join();
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor_.is_open()) return;
      if (!ec) std::make_shared<session>(std::move(socket), handler_, body_limit_)->run();
      accept();
    });
  }

  http_handler handler_;
  std::size_t body_limit_;
  int threads_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> pool_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

result<std::unique_ptr<http_server>> http_server::start(const std::string& host, std::uint16_t port, int threads,
                                                        http_handler handler, std::size_t body_limit) {
  auto s = std::make_unique<beast_server>(std::move(handler), body_limit, threads);
  auto st = s->listen(host, port);
  if (!st) return st.error();
  return std::unique_ptr<http_server>(std::move(s));
}

}  // namespace provisiond::gateway
