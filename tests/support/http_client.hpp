#pragma once
/// A tiny blocking HTTP/1.1 client over POSIX sockets for integration tests
/// (one connection per call, Connection: close). Kept free of Beast so test
/// binaries compile fast.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace provisiond::testing {

/// The Authorization header each test call to a port sends unless it names
/// its own: provisiond_process registers its admin API key here once the
/// process serves (so tests written before authentication stay as they
/// are). Pass {"Authorization", ""} to send no credentials at all.
class default_credentials {
 public:
  static void set(std::uint16_t port, const std::string& authorization) {
    std::lock_guard lock{mutex()};
    table()[port] = authorization;
  }
  static std::string get(std::uint16_t port) {
    std::lock_guard lock{mutex()};
    auto it = table().find(port);
    return it == table().end() ? std::string{} : it->second;
  }
  /// "Bearer <the key in the file>", or "" if it cannot be read.
  static std::string from_key_file(const std::string& path) {
    std::ifstream in{path};
    std::string key;
    std::getline(in, key);
    return key.empty() ? std::string{} : "Bearer " + key;
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::map<std::uint16_t, std::string>& table() {
    static std::map<std::uint16_t, std::string> t;
    return t;
  }
};

/// The header block's credentials line for a call to `port`: the caller's
/// own Authorization (dropped if empty), else the port's default.
inline std::string credentials_line(std::uint16_t port, const std::map<std::string, std::string>& headers) {
  for (auto& [k, v] : headers)
    if (k.size() == 13 && (k[0] == 'A' || k[0] == 'a') && k.substr(1) == "uthorization") return {};
  auto dflt = default_credentials::get(port);
  return dflt.empty() ? std::string{} : "Authorization: " + dflt + "\r\n";
}

struct http_reply {
  int status = 0;  ///< 0: could not connect or no complete reply
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
};

inline http_reply http_call(std::uint16_t port, const std::string& method, const std::string& target,
                            const std::string& body = {}, const std::map<std::string, std::string>& headers = {}) {
  http_reply out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  req += credentials_line(port, headers);
  for (auto& [k, v] : headers)
    if (!v.empty() || (k != "Authorization" && k != "authorization")) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return out;
  auto head = raw.substr(0, end);
  std::size_t pos = head.find("\r\n");
  auto line = head.substr(0, pos);
  while (pos != std::string::npos && pos < head.size()) {
    auto next = head.find("\r\n", pos + 2);
    auto h = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    auto colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers[name] = value;
    }
    pos = next;
  }
  out.body = raw.substr(end + 4);
  if (auto it = out.headers.find("content-length"); it != out.headers.end() && out.body.size() < std::stoul(it->second))
    return out;  // truncated: status stays 0
  out.status = std::stoi(line.substr(9, 3));
  return out;
}

}  // namespace provisiond::testing
