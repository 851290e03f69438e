#include "cli/sse.hpp"

#include <algorithm>
#include <charconv>

namespace provisiond::cli {

void sse_parser::reset_partial() {
  line_.clear();
  skip_lf_ = false;
  data_.clear();
  type_.clear();
  has_data_ = false;
}

bool sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  for (char ch : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (ch == '\n') continue;
    }
    if (ch == '\r' || ch == '\n') {
      skip_lf_ = ch == '\r';
      if (!line(line_, out)) return false;
      line_.clear();
      continue;
    }
    line_ += ch;
    if (line_.size() > max_bytes) return false;
  }
  return true;
}

bool sse_parser::line(std::string_view l, std::vector<sse_event>& out) {
  if (l.empty()) {  // dispatch
    if (has_data_) {
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      out.push_back({last_id_, type_.empty() ? "message" : type_, std::move(data_)});
    }
    data_.clear();
    type_.clear();
    has_data_ = false;
    return true;
  }
  if (l.front() == ':') return true;  // a comment (heartbeat)
  auto colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    data_.append(value);
    data_ += '\n';
    has_data_ = true;
    if (data_.size() > max_bytes) return false;
  } else if (field == "event") {
    type_ = value;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_ = value;
  } else if (field == "retry") {
    long long ms = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc{} && end == value.data() + value.size() && ms >= 0) retry_ = std::chrono::milliseconds(ms);
  }
  return true;  // other fields are ignored, as the format says
}

bool chunked_decoder::feed(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size()) {
    switch (phase_) {
      case phase::data: {
        auto n = std::min(left_, in.size() - i);
        out.append(in.substr(i, n));
        i += n;
        left_ -= n;
        if (left_ == 0) phase_ = phase::data_end;
        break;
      }
      case phase::done: return true;  // anything after the last chunk is not ours
      default: {
        char ch = in[i++];
        if (ch != '\n') {
          line_ += ch;
          if (line_.size() > 4096) return false;
          break;
        }
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        std::string l = std::move(line_);
        line_.clear();
        if (phase_ == phase::data_end) {
          if (!l.empty()) return false;
          phase_ = phase::size;
        } else if (phase_ == phase::trailer) {
          if (l.empty()) phase_ = phase::done;
        } else {  // the size line: hex digits, then maybe ";extension"
          auto end = l.find(';');
          std::string_view digits = std::string_view(l).substr(0, end);
          while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) digits.remove_suffix(1);
          std::size_t size = 0;
          auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
          if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size()) return false;
          left_ = size;
          phase_ = size == 0 ? phase::trailer : phase::data;
        }
      }
    }
  }
  return true;
}

}  // namespace provisiond::cli
