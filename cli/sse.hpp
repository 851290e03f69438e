#pragma once
/// The wire formats of the event stream, pure and incremental (bytes go in
/// as the socket hands them out, split anywhere): the Server-Sent Events
/// text format (WHATWG HTML §9.2.6: `id:`, `event:`, `data:`, `retry:`,
/// `:` comments, LF / CRLF / CR line ends) and HTTP/1.1 chunked transfer
/// coding.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace provisiond::cli {

struct sse_event {
  std::string id;    ///< the last event id as of this event (may come from an earlier one)
  std::string type;  ///< "message" unless an `event:` line said otherwise
  std::string data;  ///< `data:` lines joined by '\n'
};

class sse_parser {
 public:
  /// Appends each event completed by `bytes` to `out`. False once a line or
  /// an event's data is over `max_bytes` (the stream is not to be trusted further).
  bool feed(std::string_view bytes, std::vector<sse_event>& out);
  /// What a reconnect sends as Last-Event-ID (empty: none seen yet).
  const std::string& last_event_id() const { return last_id_; }
  void set_last_event_id(std::string id) { last_id_ = std::move(id); }
  /// The server's `retry:` advice, if it gave one.
  std::optional<std::chrono::milliseconds> retry() const { return retry_; }
  /// Forgets a partial line and event (a new connection starts clean).
  void reset_partial();

  static constexpr std::size_t max_bytes = 8 << 20;

 private:
  bool line(std::string_view l, std::vector<sse_event>& out);

  std::string line_;
  bool skip_lf_ = false;  // the last byte was a CR: a LF right after it ends nothing
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string last_id_;
  std::optional<std::chrono::milliseconds> retry_;
};

/// Decodes `Transfer-Encoding: chunked` bodies (extensions and trailers skipped).
class chunked_decoder {
 public:
  /// Appends what `in` decodes to to `out`; false on a malformed stream.
  bool feed(std::string_view in, std::string& out);
  /// The last (zero-size) chunk and the trailers have been read.
  bool finished() const { return phase_ == phase::done; }

 private:
  enum class phase { size, data, data_end, trailer, done };
  phase phase_ = phase::size;
  std::string line_;
  std::size_t left_ = 0;
};

}  // namespace provisiond::cli
