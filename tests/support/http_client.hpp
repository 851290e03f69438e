#pragma once
/// A tiny blocking HTTP/1.1 client over POSIX sockets for integration tests
/// (one connection per call, Connection: close). Kept free of Beast so test
/// binaries compile fast.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace provisiond::testing {

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
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
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
