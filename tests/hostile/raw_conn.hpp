#pragma once
/// A raw client connection for hostile tests and the hostile bench: bound to
/// a chosen loopback source address before connecting (the server's
/// per-client limit is per address), bytes sent exactly as given, replies
/// read one at a time (HTTP/1.1 or 1.0, Content-Length framed or ended by
/// the close).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "tests/support/http_client.hpp"

namespace provisiond::testing {

class raw_conn {
 public:
  raw_conn(std::uint16_t port, const char* source, int timeout_s = 10) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  raw_conn(const raw_conn&) = delete;
  raw_conn& operator=(const raw_conn&) = delete;
  ~raw_conn() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send(const std::string& s) {
    std::size_t sent = 0;
    while (sent < s.size()) {
      auto n = ::send(fd_, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// Reads up to the end of a header block ("\r\n\r\n"); what follows stays buffered.
  std::string read_head() {
    while (buffered_.find("\r\n\r\n") == std::string::npos)
      if (!fill()) return {};
    auto end = buffered_.find("\r\n\r\n") + 4;
    auto head = buffered_.substr(0, end);
    buffered_.erase(0, end);
    return head;
  }

  /// Reads one complete response; status 0 when none came. `version` gets
  /// "HTTP/1.1" or "HTTP/1.0". Without Content-Length the body runs to the close.
  http_reply read_reply(std::string* version = nullptr) {
    http_reply out;
    auto head = read_head();
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) return out;
    if (version) *version = head.substr(0, 8);
    for (std::size_t pos = head.find("\r\n"); pos + 4 < head.size();) {
      auto next = head.find("\r\n", pos + 2);
      auto line = head.substr(pos + 2, next - pos - 2);
      if (auto colon = line.find(':'); colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value_at = line.find_first_not_of(' ', colon + 1);
        out.headers[name] = value_at == std::string::npos ? "" : line.substr(value_at);
      }
      pos = next;
    }
    if (out.headers.count("content-length")) {
      std::size_t length = std::stoul(out.headers["content-length"]);
      while (buffered_.size() < length)
        if (!fill()) return out;
      out.body = buffered_.substr(0, length);
      buffered_.erase(0, length);
    } else {
      while (fill()) {
      }
      out.body = std::move(buffered_);
      buffered_.clear();
    }
    out.status = std::stoi(head.substr(9, 3));
    return out;
  }

  /// True when the server closed the connection (EOF or reset) before the read timeout.
  bool closed_by_server() {
    if (!buffered_.empty()) return false;
    char c;
    auto n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  /// True when the server closed the connection; never blocks.
  bool closed_now() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char c;
    auto n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffered_;
};

/// "Authorization: Bearer <key>\r\n" with the bootstrap admin API key that
/// provisiond keeps in `data_dir`/admin-api-key, or "" without one (a build
/// without authentication). For requests written byte by byte.
inline std::string admin_authorization_line(const std::string& data_dir) {
  std::ifstream in{data_dir + "/admin-api-key"};
  std::string key;
  std::getline(in, key);
  return key.empty() ? std::string{} : "Authorization: Bearer " + key + "\r\n";
}

/// The resident set of process `pid` in KiB (VmRSS in /proc/PID/status), or -1.
inline long rss_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

/// The pid of the process whose command line holds `needle` (a test's own
/// data directory), or -1.
inline int pid_with_argument(const std::string& needle) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in{entry.path() / "cmdline"};
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos) return std::stoi(name);
  }
  return -1;
}

}  // namespace provisiond::testing
