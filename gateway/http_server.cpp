// The only translation unit that includes Boost.Beast (each costs ~30 s and
// ~800 MB to compile).
//
// Timeouts (beast::tcp_stream's expiry is a deadline for the pending
// operation; bytes trickling in do not push it back, so a slowloris sending
// one header byte a second gains nothing):
// - a fresh connection has header_timeout_ms from accept to the end of its
//   first header;
// - a kept-alive connection waits idle_timeout_ms for the first byte of its
//   next request (a 1-byte-or-more read_some), then has header_timeout_ms for
//   the rest of that header;
// - a body has body_timeout_ms once its header is in; a response has
//   body_timeout_ms to be written;
// - with TLS, the handshake has header_timeout_ms from accept (then the first
//   header has its own header_timeout_ms).
// On a timeout the stream closes the socket and the session ends.
//
// TLS: one session template serves both streams (beast::tcp_stream and
// beast::ssl_stream over it), so limits, timeouts, pipelining and the live
// stream are the same code. The first bytes of a TLS connection are read
// before the handshake: a plain HTTP request on the TLS port is answered
// with a plain 400 instead of a handshake error the client cannot read.
#include <sys/resource.h>

#include <utility>

#include "gateway/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>

#include <openssl/ssl.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/metrics.hpp"
#include "gateway/detail/tls_context.hpp"
#include "gateway/http_target.hpp"

namespace provisiond::gateway {

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

constexpr auto linger_time = std::chrono::seconds(1);
constexpr auto accept_backoff = milliseconds(50);
constexpr int stream_send_buffer = 64 * 1024;

// A JSON string literal for `s`: quotes, backslashes and control bytes
// escaped; bytes of a string that is not UTF-8 become '?'.
std::string json_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  bool utf8 = is_valid_utf8(s);
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += (u >= 0x80 && !utf8) ? '?' : c;
    }
  }
  return out + '"';
}

// The error code of a refusal: the status's own name where the error code
// would say less (413, 414, 431).
std::string error_code_for(int status, const error& e) {
  switch (status) {
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 431: return "request_header_fields_too_large";
    default: return e.code == errc::too_large ? "payload_too_large" : to_string(e.code);
  }
}

std::string error_body(const error& e, int status = 0) {
  std::string code = error_code_for(status, e);
  std::string out = R"({"error":{"code":)" + json_string(code);
  if (!e.field.empty()) out += R"(,"field":)" + json_string(e.field);
  return out + R"(,"message":)" + json_string(e.message) + "}}";
}

bool is_out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         (ec.category() == asio::error::get_system_category() && ec.value() == ENFILE);
}

// Client gone or stream timed out: nothing to answer.
bool is_silent_end(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message;
}

// Reads and discards until EOF, an error or the stream's deadline.
void drain(beast::tcp_stream& stream, std::shared_ptr<std::array<char, 4096>> scratch, std::shared_ptr<void> owner) {
  stream.async_read_some(asio::buffer(*scratch), [&stream, scratch, owner](beast::error_code ec, std::size_t) {
    if (!ec) drain(stream, scratch, owner);
  });
}

// Half-closes, then discards what the client still sends for up to a second,
// so unread bytes do not make the kernel reset the connection and destroy the
// response in flight. `owner` keeps the stream alive until then.
void linger_close(beast::tcp_stream& stream, std::shared_ptr<void> owner) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(linger_time);
  drain(stream, std::make_shared<std::array<char, 4096>>(), std::move(owner));
}

// TLS: close_notify first (a second at most for the client's), then the same.
void linger_close(tls_stream& stream, std::shared_ptr<void> owner) {
  beast::get_lowest_layer(stream).expires_after(linger_time);
  stream.async_shutdown([&stream, owner](beast::error_code) { linger_close(beast::get_lowest_layer(stream), owner); });
}

// A connection limit: its name in the config file and as a metric label.
struct limit {
  const char* config_name;
  const char* label;
};
constexpr limit total_limit{"maxConnections", "max_connections"};
constexpr limit per_client_limit{"maxConnectionsPerClient", "max_connections_per_client"};

// Open sessions in total and per client address. Thread-safe; shared by the
// server and its sessions, which may outlive it by a moment at shutdown.
class connection_table {
 public:
  explicit connection_table(const http_limits& l)
      : max_total_(l.max_connections), max_per_client_(l.max_connections_per_client) {}

  /// Counts a new session, or returns the limit it would go over.
  const limit* admit(const asio::ip::address& client) {
    std::lock_guard lock{mutex_};
    if (total_ >= max_total_) return &total_limit;
    auto it = per_client_.try_emplace(client, 0).first;
    if (it->second >= max_per_client_) {
      if (it->second == 0) per_client_.erase(it);
      return &per_client_limit;
    }
    ++it->second;
    ++total_;
    return nullptr;
  }

  void release(const asio::ip::address& client) {
    std::lock_guard lock{mutex_};
    --total_;
    if (auto it = per_client_.find(client); it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  }

  int open() const {
    std::lock_guard lock{mutex_};
    return total_;
  }

 private:
  mutable std::mutex mutex_;
  int max_total_;
  int max_per_client_;
  int total_ = 0;
  std::map<asio::ip::address, int> per_client_;
};

// One admitted connection's place in the table, given back on destruction.
class admission {
 public:
  admission(std::shared_ptr<connection_table> table, asio::ip::address client)
      : table_(std::move(table)), client_(std::move(client)) {}
  admission(const admission&) = delete;
  admission& operator=(const admission&) = delete;
  ~admission() { table_->release(client_); }

 private:
  std::shared_ptr<connection_table> table_;
  asio::ip::address client_;
};

http_request to_request(parsed_target target, http::request<http::string_body>&& r, const std::string& peer_subject) {
  http_request out;
  out.peer_subject = peer_subject;
  out.method = std::string(r.method_string());
  out.target = std::string(r.target());
  out.path = std::move(target.path);
  out.query = std::move(target.query);
  for (const auto& f : r) {
    std::string name{f.name_string()};
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(r.body());
  return out;
}

std::string_view std_view(beast::string_view s) {
  return {s.data(), s.size()};
}

// A request refused before its body is read: the status and why.
struct refused_head {
  int status;
  error why;
};

// A header name for an error's field: as sent, cut short.
std::string field_name(beast::string_view name) {
  return std::string(name.substr(0, 64));
}

// The head's sizes (414, 431), then the target and every header value (400);
// all before any body is read.
result<parsed_target> validate(const http::request<http::string_body>& h, std::optional<refused_head>& refused) {
  if (h.target().size() > max_target_bytes) {
    refused =
        refused_head{414, make_error(errc::invalid_argument,
                                     "request target over " + std::to_string(max_target_bytes) + " bytes", "target")};
    return refused->why;
  }
  std::size_t fields = 0;
  for (const auto& f : h) {
    if (++fields > max_header_fields) {
      refused =
          refused_head{431, make_error(errc::invalid_argument,
                                       "more than " + std::to_string(max_header_fields) + " header fields", "headers")};
      return refused->why;
    }
    if (f.name_string().size() + f.value().size() + 2 > max_header_line_bytes) {
      refused = refused_head{431, make_error(errc::invalid_argument,
                                             "header line over " + std::to_string(max_header_line_bytes) + " bytes",
                                             field_name(f.name_string()))};
      return refused->why;
    }
  }
  auto target = parse_target(std_view(h.target()));
  if (!target) return target.error();
  for (const auto& f : h)
    if (auto st = validate_header_value(std_view(f.name_string()), std_view(f.value())); !st) return st.error();
  return target;
}

bool expects_continue(const http::request<http::string_body>& h) {
  return h.version() >= 11 && beast::iequals(h[http::field::expect], "100-continue");
}


// A TLS record starts with its content type; a handshake is 0x16.
constexpr unsigned char tls_handshake_record = 0x16;

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
 public:
  session(Stream stream, const http_handler& handler, const http_limits& limits, std::unique_ptr<admission> seat)
      : stream_(std::move(stream)), handler_(handler), limits_(limits), seat_(std::move(seat)) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (is_tls<Stream>)
        self->read_hello();
      else
        self->read_header();
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // TLS: the first bytes, to tell a ClientHello from plain HTTP.
  void read_hello() {
    lowest().expires_after(milliseconds(limits_.header_timeout_ms));
    lowest().async_read_some(buffer_.prepare(512),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                               if (ec) return self->close();
                               self->buffer_.commit(n);
                               auto first = static_cast<const unsigned char*>(self->buffer_.data().data())[0];
                               if (first != tls_handshake_record) return self->refuse_plain_http();
                               self->handshake();
                             });
  }

  void handshake() {
    if constexpr (is_tls<Stream>) {
      stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t used) {
                                if (ec) return self->close();  // no certificate, another CA, a bad hello
                                self->buffer_.consume(used);
                                self->peer_subject_ = detail::verified_subject(self->stream_.native_handle());
                                self->read_header();
                              });
    }
  }

  // Plain HTTP on the TLS port: a readable 400 in plain text, then close.
  void refuse_plain_http() {
    auto msg = std::make_shared<http::response<http::string_body>>(http::status::bad_request, 11);
    msg->set(http::field::server, "provisiond");
    msg->set(http::field::content_type, "application/json");
    msg->keep_alive(false);
    msg->body() = error_body(make_error(errc::invalid_argument, "this port speaks TLS only; use https://", "scheme"));
    msg->prepare_payload();
    lowest().expires_after(linger_time);
    http::async_write(lowest(), *msg, [self = this->shared_from_this(), msg](beast::error_code ec, std::size_t) {
      if (!ec) linger_close(self->lowest(), self);
    });
  }

  void await_next_request() {
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request has begun
    lowest().expires_after(milliseconds(limits_.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(limits_.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(max_header_block_bytes));
    lowest().expires_after(milliseconds(limits_.header_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    // A Content-Length over the limit fails here, before any body is read.
    if (ec == http::error::body_limit) return fail(413, too_large());
    if (ec == http::error::header_limit) return fail_head_limit();
    if (is_silent_end(ec)) return close();
    if (ec) return fail(400, make_error(errc::invalid_argument, "malformed HTTP request: " + ec.message()));
    std::optional<refused_head> refused;
    auto target = validate(parser_->get(), refused);
    if (refused) return fail(refused->status, refused->why);
    if (!target) return fail(400, target.error());
    target_ = std::move(*target);
    if (expects_continue(parser_->get()) && !parser_->is_done()) return send_continue();
    read_body();
  }

  // The parser stops at its limit: in the request line (no target yet) that
  // is the target's fault.
  void fail_head_limit() {
    if (parser_->get().target().empty())
      return fail(414, make_error(errc::invalid_argument,
                                  "request line over " + std::to_string(max_header_block_bytes) + " bytes", "target"));
    fail(431, make_error(errc::invalid_argument,
                         "header fields over " + std::to_string(max_header_block_bytes) + " bytes", "headers"));
  }

  void send_continue() {
    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    lowest().expires_after(milliseconds(limits_.body_timeout_ms));
    asio::async_write(stream_, asio::buffer(continue_line.data(), continue_line.size()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->read_body();
                      });
  }

  void read_body() {
    if (parser_->is_done()) return respond();
    lowest().expires_after(milliseconds(limits_.body_timeout_ms));
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == http::error::body_limit) return self->fail(413, self->too_large());
      if (is_silent_end(ec)) return self->close();
      if (ec) return self->fail(400, make_error(errc::invalid_argument, "malformed HTTP body: " + ec.message()));
      self->respond();
    });
  }

  void respond() {
    auto req = parser_->release();
    parser_.reset();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    http_response res;
    try {
      res = handler_(to_request(std::move(target_), std::move(req), peer_subject_));
    } catch (...) {
      res = http_response{};
      res.status = 500;
      res.body = error_body(make_error(errc::internal, "unexpected error"));
    }
    write(std::move(res), keep_alive, version);
  }

  error too_large() const {
    return make_error(errc::too_large,
                      "request body is over the " + std::to_string(limits_.body_limit) + " byte limit");
  }

  // Answers an error and closes: the rest of the request is not read, and
  // what was parsed of it (up to 64 KiB of fields) is freed at once.
  void fail(int status, const error& e) {
    parser_.reset();
    http_response res;
    res.status = status;
    res.body = error_body(e, status);
    write(std::move(res), false, 11);
  }

  void write(http_response res, bool keep_alive, unsigned version) {
    if (res.stream) return start_stream(std::move(res), version);
    auto msg = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(res.status), version);
    msg->set(http::field::server, "provisiond");
    msg->set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) msg->set(k, v);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    lowest().expires_after(milliseconds(limits_.body_timeout_ms));
    http::async_write(stream_, *msg, [self = this->shared_from_this(), msg](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!msg->keep_alive()) return linger_close(self->stream_, self);
      self->await_next_request();
    });
  }

  // A streamed body: the head without a length (the body ends when the
  // connection closes), then the stream's pieces one write at a time. A
  // piece unwritten after slow_ms tells the stream; after body_timeout_ms
  // more the connection is closed (a reader that reads nothing cannot be
  // given a last word).
  void start_stream(http_response res, unsigned version) {
    http::response<http::empty_body> head{static_cast<http::status>(res.status), version};
    head.set(http::field::server, "provisiond");
    head.set(http::field::content_type, res.content_type);
    head.set(http::field::cache_control, "no-cache");
    for (auto& [k, v] : res.headers) head.set(k, v);
    head.keep_alive(false);
    std::ostringstream out;
    out << head.base();
    // The kernel keeps little for a reader that does not read: a slow
    // reader stalls our write soon, and is found out, instead of parking
    // megabytes in the socket.
    beast::error_code ec;
    lowest().socket().set_option(asio::socket_base::send_buffer_size(stream_send_buffer), ec);
    body_stream_ = std::move(res.stream);
    poll_ms_ = res.poll_ms;
    slow_ms_ = res.slow_ms;
    timer_.emplace(stream_.get_executor());
    write_piece(out.str() + res.body);
  }

  void write_piece(std::string piece) {
    auto bytes = std::make_shared<std::string>(std::move(piece));
    auto written = std::make_shared<bool>(false);
    lowest().expires_after(milliseconds(slow_ms_ + limits_.body_timeout_ms));
    timer_->expires_after(milliseconds(slow_ms_));
    timer_->async_wait([self = this->shared_from_this(), written](beast::error_code ec) {
      if (!ec && !*written) self->body_stream_->reader_is_slow();
    });
    asio::async_write(stream_, asio::buffer(*bytes),
                      [self = this->shared_from_this(), bytes, written](beast::error_code ec, std::size_t) {
                        *written = true;
                        self->timer_->cancel();
                        if (ec) return self->close();
                        self->next_piece();
                      });
  }

  void next_piece() {
    std::optional<std::string> piece;
    try {
      piece = body_stream_->next();
    } catch (...) {
      piece.reset();
    }
    if (!piece) return linger_close(stream_, this->shared_from_this());
    if (!piece->empty()) return write_piece(std::move(*piece));
    timer_->expires_after(milliseconds(poll_ms_));
    timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->next_piece();
    });
  }

  void close() {
    if (timer_) timer_->cancel();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  parsed_target target_;
  std::string peer_subject_;  // TLS: the verified client certificate's subject
  const http_handler& handler_;
  const http_limits& limits_;
  std::unique_ptr<admission> seat_;
  // A streamed body (start_stream).
  std::shared_ptr<body_stream> body_stream_;
  std::optional<asio::steady_timer> timer_;
  int poll_ms_ = 100;
  int slow_ms_ = 5000;
};

// Answers a connection over a limit with a 503 and closes it, without
// reading its request.
class refusal : public std::enable_shared_from_this<refusal> {
 public:
  refusal(tcp::socket socket, const limit& over) : stream_(std::move(socket)) {
    msg_.result(http::status::service_unavailable);
    msg_.set(http::field::server, "provisiond");
    msg_.set(http::field::content_type, "application/json");
    msg_.set(http::field::retry_after, "1");
    msg_.keep_alive(false);
    msg_.body() = error_body(
        make_error(errc::unavailable, std::string("too many open connections (") + over.config_name + "); retry later",
                   over.config_name));
    msg_.prepare_payload();
  }

  void run() {
    stream_.expires_after(linger_time);
    http::async_write(stream_, msg_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) linger_close(self->stream_, self);
    });
  }

 private:
  beast::tcp_stream stream_;
  http::response<http::string_body> msg_;
};

asio::ip::address client_address(const tcp::socket& socket, beast::error_code& ec) {
  auto a = socket.remote_endpoint(ec).address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

constexpr const char* connections_gauge = "provisiond_http_connections";



// Each connection is a descriptor: the soft limit is raised towards the hard
// one so that maxConnections (plus the journal's files) fit, rather than
// accept failing with EMFILE at the distribution's default of 1024.
void make_room_for(int connections) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(connections) + 1024;
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < wanted) {
    r.rlim_cur = r.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, r.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

class beast_server final : public http_server {
 public:
  beast_server(http_handler handler, const http_limits& limits, int threads, std::unique_ptr<ssl::context> tls)
      : handler_(std::move(handler)),
        limits_(limits),
        tls_(std::move(tls)),
        table_(std::make_shared<connection_table>(limits)),
        threads_(threads),
        acceptor_(ioc_),
        backoff_(ioc_) {}
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
    if (ec)
      return make_error(errc::unavailable,
                        "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message(), "listen");
    port_ = acceptor_.local_endpoint().port();
    make_room_for(limits_.max_connections);
    metrics::registry::global().gauge(connections_gauge, "Open HTTP connections", {},
                                      [t = table_] { return static_cast<double>(t->open()); });
    refused(total_limit);  // both series exist from the start, at 0
    refused(per_client_limit);
    accept();
    for (int i = 0; i < threads_; ++i) pool_.emplace_back([this] { run(); });
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
    metrics::registry::global().remove_gauges(connections_gauge);
  }

 private:
  // Handlers catch what they expect; should one throw anyway (out of memory),
  // its connection is dropped and the thread goes on serving the others.
  void run() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (...) {
      }
    }
  }

  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor_.is_open()) return;
      if (is_out_of_descriptors(ec)) return accept_later();
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  // Out of file descriptors: the pending connection stays in the backlog;
  // retrying at once would spin.
  void accept_later() {
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([this](beast::error_code ec) {
      if (!ec && acceptor_.is_open()) accept();
    });
  }

  void admit(tcp::socket socket) {
    try {
      beast::error_code ec;
      auto client = client_address(socket, ec);
      if (ec) return;  // already gone
      if (const limit* over = table_->admit(client)) return refuse(std::move(socket), *over);
      auto seat = std::make_unique<admission>(table_, client);
      if (tls_)
        std::make_shared<session<tls_stream>>(tls_stream(plain_stream(std::move(socket)), *tls_), handler_, limits_,
                                              std::move(seat))
            ->run();
      else
        std::make_shared<session<plain_stream>>(plain_stream(std::move(socket)), handler_, limits_, std::move(seat))
            ->run();
    } catch (...) {
      // Out of memory for one connection: dropping it (the socket closes) is all we can do.
    }
  }

  // On the TLS port a refused client gets no handshake (that is the work
  // the limit saves): the connection is closed.
  void refuse(tcp::socket socket, const limit& over) {
    refused(over).inc();
    if (!tls_) std::make_shared<refusal>(std::move(socket), over)->run();
  }

  static metrics::counter& refused(const limit& over) {
    return metrics::registry::global().get_counter("provisiond_http_connections_refused_total",
                                                   "HTTP connections answered 503 and closed, by the limit reached",
                                                   {{"reason", over.label}});
  }

  http_handler handler_;
  http_limits limits_;
  std::unique_ptr<ssl::context> tls_;  // before ioc_: outlives every session's stream
  std::shared_ptr<connection_table> table_;
  int threads_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::vector<std::thread> pool_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

result<std::unique_ptr<http_server>> http_server::start(const std::string& host, std::uint16_t port, int threads,
                                                        http_handler handler, const http_limits& limits,
                                                        const tls_settings& tls) {
  std::unique_ptr<ssl::context> ctx;
  if (!tls.cert_file.empty()) {
    auto made = detail::make_tls_context(tls);
    if (!made) return made.error();
    ctx = std::move(*made);
  }
  auto s = std::make_unique<beast_server>(std::move(handler), limits, threads, std::move(ctx));
  auto st = s->listen(host, port);
  if (!st) return st.error();
  return std::unique_ptr<http_server>(std::move(s));
}

}  // namespace provisiond::gateway
