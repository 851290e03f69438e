#include "cli/stream.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "providers/http/http_client.hpp"

namespace provisiond::cli {

namespace {

using clock_type = std::chrono::steady_clock;

int millis_left(clock_type::time_point end) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

error no_answer(const std::string& what) {
  return make_error(errc::retryable, what, "connect");
}

// A connected socket to host:port (each resolved address in turn), or why not.
result<int> connect_to(const std::string& host, const std::string& port, clock_type::time_point end) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return no_answer("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, millis_left(end));
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        rc = 0;
      else {
        last = rc == 0 ? "timed out" : std::strerror(err ? err : errno);
        rc = -1;
      }
    } else if (rc != 0) {
      last = std::strerror(errno);
    }
    if (rc == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return no_answer("connect to " + host + ":" + port + " failed: " + last);
}

status send_all(int fd, std::string_view data, clock_type::time_point end) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, millis_left(end)) <= 0) return no_answer("write timed out");
    } else {
      return no_answer(std::string("write failed: ") + std::strerror(errno));
    }
  }
  return ok();
}

// One recv after waiting up to `ms`: >0 bytes, 0 closed, -1 failed, -2 timed out.
long receive(int fd, char* buf, std::size_t size, int ms) {
  pollfd p{fd, POLLIN, 0};
  int rc = ::poll(&p, 1, ms);
  if (rc == 0) return -2;
  if (rc < 0) return errno == EINTR ? -2 : -1;
  auto n = ::recv(fd, buf, size, 0);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? -2 : -1;
  return static_cast<long>(n);
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

result<std::unique_ptr<body_stream>> body_stream::open(const std::string& url, const header_list& headers,
                                                       std::chrono::milliseconds timeout) {
  auto u = providers::http::parse_url(url);
  if (!u) return make_error(errc::invalid_argument, u.error().message, "url");
  if (u->tls)
    return make_error(errc::unsupported, "watch reads the event stream over http:// only, not https://", "url");
  auto end = clock_type::now() + timeout;
  auto fd = connect_to(u->host, u->port, end);
  if (!fd) return fd.error();
  std::unique_ptr<body_stream> s{new body_stream};
  s->fd_ = *fd;

  bool v6 = u->host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + u->host + "]" : u->host;
  if (u->port != "80") host += ":" + u->port;
  std::string req = "GET " + u->target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  if (auto st = send_all(s->fd_, req, end); !st) return st.error();

  // Status line and headers, then whatever body bytes came along.
  std::string head;
  char buf[16384];
  std::size_t header_end = std::string::npos;
  while ((header_end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > 64 * 1024) return make_error(errc::permanent, "response headers over 64 KiB", "response");
    long n = receive(s->fd_, buf, sizeof buf, millis_left(end));
    if (n == -2 && clock_type::now() >= end) return no_answer("no response headers within the timeout");
    if (n == -2) continue;
    if (n <= 0) return no_answer(n == 0 ? "connection closed before a response" : "read failed");
    head.append(buf, static_cast<std::size_t>(n));
  }
  s->early_ = head.substr(header_end + 4);
  head.resize(header_end);
  auto eol = head.find("\r\n");
  std::string status_line = head.substr(0, eol);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
    return make_error(errc::permanent, "not an HTTP/1.x response", "response");
  auto code = status_line.substr(9, 3);
  if (code.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::permanent, "bad status line", "response");
  s->status_ = std::stoi(code);
  std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    auto line = std::string_view(head).substr(pos, next - pos);
    if (auto colon = line.find(':'); colon != std::string_view::npos)
      s->headers_[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    pos = next + 2;
  }
  s->chunked_ = lower(s->header("transfer-encoding")).find("chunked") != std::string::npos;
  if (!s->chunked_ && !s->header("content-length").empty()) {
    auto cl = s->header("content-length");
    if (cl.find_first_not_of("0123456789") != std::string::npos || cl.size() > 15)
      return make_error(errc::permanent, "bad Content-Length", "response");
    s->remaining_ = std::stoull(cl);
  }
  return s;
}

body_stream::~body_stream() {
  if (fd_ >= 0) ::close(fd_);
}

std::string body_stream::header(const std::string& lower_name) const {
  auto it = headers_.find(lower_name);
  return it == headers_.end() ? std::string{} : it->second;
}

body_stream::read_status body_stream::take(std::string_view raw, std::string& out) {
  if (chunked_) {
    if (!chunks_.feed(raw, out)) return read_status::failed;
    return read_status::data;
  }
  if (remaining_) {
    raw = raw.substr(0, std::min(raw.size(), *remaining_));
    *remaining_ -= raw.size();
  }
  out.append(raw);
  return read_status::data;
}

body_stream::read_status body_stream::read(std::string& out, std::chrono::milliseconds timeout) {
  if (!early_.empty()) {
    std::string raw = std::move(early_);
    early_.clear();
    return take(raw, out);
  }
  if ((chunked_ && chunks_.finished()) || (remaining_ && *remaining_ == 0)) return read_status::closed;
  char buf[16384];
  long n = receive(fd_, buf, sizeof buf, static_cast<int>(std::min<long long>(timeout.count(), 1 << 30)));
  if (n == -2) return read_status::timeout;
  if (n == 0) return read_status::closed;
  if (n < 0) return read_status::failed;
  return take(std::string_view(buf, static_cast<std::size_t>(n)), out);
}

std::string body_stream::read_all(std::chrono::milliseconds timeout) {
  std::string out;
  auto end = clock_type::now() + timeout;
  while (out.size() < 64 * 1024) {
    auto left = std::chrono::milliseconds(millis_left(end));
    if (left.count() == 0) break;
    auto st = read(out, left);
    if (st != read_status::data) break;
  }
  return out;
}

}  // namespace provisiond::cli
