#pragma once
/// A long-lived HTTP/1.1 GET whose body is read as it arrives: what `watch`
/// needs and the shared client (which returns whole bodies) does not do.
/// Plain POSIX sockets, http:// only. One connection per object, used by
/// one thread.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/api.hpp"
#include "cli/sse.hpp"
#include "common/result.hpp"

namespace provisiond::cli {

class body_stream {
 public:
  /// Connects, sends `GET url` with `headers` and reads the status line and
  /// headers. Errors: errc::unsupported for https, errc::retryable for no
  /// answer (connect, timeout, a closed connection), errc::permanent for a
  /// reply that is not HTTP/1.x.
  static result<std::unique_ptr<body_stream>> open(const std::string& url, const header_list& headers,
                                                   std::chrono::milliseconds timeout);
  ~body_stream();
  body_stream(const body_stream&) = delete;
  body_stream& operator=(const body_stream&) = delete;

  int status() const { return status_; }
  /// A response header by lower-case name ("" if absent).
  std::string header(const std::string& lower_name) const;

  enum class read_status { data, timeout, closed, failed };
  /// Waits up to `timeout` for body bytes and appends them (de-chunked) to `out`.
  read_status read(std::string& out, std::chrono::milliseconds timeout);
  /// The rest of a (short) body, at most 64 KiB, for an error reply.
  std::string read_all(std::chrono::milliseconds timeout);

 private:
  body_stream() = default;
  read_status take(std::string_view raw, std::string& out);

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;
  chunked_decoder chunks_;
  std::optional<std::size_t> remaining_;  // Content-Length left, if the body has one
  std::string early_;                     // body bytes that came with the headers
};

}  // namespace provisiond::cli
