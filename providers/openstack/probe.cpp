#include "providers/openstack/detail/probe.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "providers/provider.hpp"

namespace provisiond::providers::openstack::detail {

result<std::string> tcp_banner(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return retryable_error("probe", "cannot resolve " + host);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  pollfd p{fd, POLLIN, 0};
  std::string got;
  if (::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN)) {
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (got.empty()) return retryable_error("probe", "nothing answered on " + host + ":" + std::to_string(port));
  return got;
}

}  // namespace provisiond::providers::openstack::detail
