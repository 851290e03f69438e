#pragma once
/// A blocking Server-Sent Events reader over POSIX sockets for tests:
/// connects, sends one GET, then hands out events one at a time. A small
/// receive buffer can be asked for, to play a reader that falls behind.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tests/support/http_client.hpp"

namespace provisiond::testing {

struct sse_event {
  std::string id;
  std::string event = "message";
  std::string data;
};

class sse_client {
 public:
  sse_client() = default;
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;
  ~sse_client() { close(); }

  /// Connects and sends the request; `rcvbuf` > 0 shrinks the socket's
  /// receive buffer first. The status line's code, or 0.
  int open(std::uint16_t port, const std::string& target, const std::map<std::string, std::string>& headers = {},
           int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return 0;
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    req += credentials_line(port, headers);
    for (auto& [k, v] : headers)
      if (!v.empty() || (k != "Authorization" && k != "authorization")) req += k + ": " + v + "\r\n";
    req += "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (buf_.find("\r\n\r\n") == std::string::npos)
      if (!fill(deadline)) return 0;
    auto end = buf_.find("\r\n\r\n");
    head_ = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    auto sp = head_.find(' ');
    return sp == std::string::npos ? 0 : std::atoi(head_.c_str() + sp + 1);
  }

  const std::string& head() const { return head_; }
  /// Bytes of an error answer (the body after the head, once the server closed).
  std::string rest(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (fill(deadline)) {
    }
    return buf_;
  }

  /// The next event (comments and `retry:` skipped; heartbeats counted), or
  /// nullopt when the stream ends or nothing comes within `wait`.
  std::optional<sse_event> next(std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      auto end = buf_.find("\n\n");
      while (end == std::string::npos) {
        if (!fill(deadline)) return std::nullopt;
        end = buf_.find("\n\n");
      }
      std::string block = buf_.substr(0, end);
      buf_.erase(0, end + 2);
      sse_event e;
      bool any = false;
      std::size_t i = 0;
      while (i <= block.size()) {
        auto j = std::min(block.find('\n', i), block.size());
        std::string line = block.substr(i, j - i);
        i = j + 1;
        if (line.starts_with(":")) {
          if (line.find("heartbeat") != std::string::npos) ++heartbeats_;
          continue;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto field = line.substr(0, colon);
        auto value = line.substr(colon + 1);
        if (value.starts_with(" ")) value.erase(0, 1);
        if (field == "id") e.id = value, any = true;
        else if (field == "event") e.event = value, any = true;
        else if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value, any = true;
      }
      if (!e.id.empty() && e.data.empty()) start_id_ = e.id;  // an id alone moves the last event id only
      if (any && !e.data.empty()) return e;
    }
  }

  int heartbeats() const { return heartbeats_; }
  /// The last id sent without an event (the stream's starting position).
  const std::string& start_id() const { return start_id_; }
  /// True once the server closed the connection (read returned 0).
  bool closed() const { return eof_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  int heartbeats_ = 0;
  std::string buf_;
  std::string head_;
  std::string start_id_;
};

}  // namespace provisiond::testing
