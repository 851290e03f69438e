#include "gateway/http_target.hpp"

namespace provisiond::gateway {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char c, bool allow_tab) {
  return (c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f;
}

bool has_control(std::string_view s, bool allow_tab) {
  for (char c : s)
    if (is_control(static_cast<unsigned char>(c), allow_tab)) return true;
  return false;
}

// Empty when `text` is acceptable; otherwise what is wrong with it.
std::string text_problem(std::string_view text, bool allow_tab) {
  if (!is_valid_utf8(text)) return "is not valid UTF-8";
  if (has_control(text, allow_tab))
    return allow_tab ? "contains a control character (0x00-0x08, 0x0A-0x1F or 0x7F)"
                     : "contains a control character (0x00-0x1F or 0x7F)";
  return {};
}

error bad_text(const std::string& field, const std::string& problem, const char* expected) {
  return make_error(errc::invalid_argument, field + " " + problem + "; expected " + expected, field);
}

constexpr const char* decoded_text = "UTF-8 text without control characters after percent-decoding";

status check_path(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (std::size_t n = 1;; ++n) {
    auto slash = path.find('/');
    auto problem = text_problem(url_decode(path.substr(0, slash), false), false);
    if (!problem.empty()) return bad_text("path segment " + std::to_string(n), problem, decoded_text);
    if (slash == std::string_view::npos) return ok();
    path.remove_prefix(slash + 1);
  }
}

status add_parameter(std::string_view part, std::size_t n, std::map<std::string, std::string>& query) {
  auto eq = part.find('=');
  auto key = url_decode(part.substr(0, eq), true);
  auto value = eq == std::string_view::npos ? std::string{} : url_decode(part.substr(eq + 1), true);
  auto by_number = "query parameter " + std::to_string(n);
  if (auto problem = text_problem(key, false); !problem.empty())
    return bad_text(by_number, "name " + problem, decoded_text);
  if (auto problem = text_problem(value, false); !problem.empty())
    return bad_text(key.empty() ? by_number : "query parameter " + key, "value " + problem, decoded_text);
  query[std::move(key)] = std::move(value);
  return ok();
}

status parse_query(std::string_view rest, std::map<std::string, std::string>& query) {
  std::size_t n = 0;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    if (!part.empty())
      if (auto st = add_parameter(part, ++n, query); !st) return st.error();
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return ok();
}

}  // namespace

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

result<parsed_target> parse_target(std::string_view target) {
  parsed_target out;
  auto q = target.find('?');
  auto path = target.substr(0, q);
  if (auto st = check_path(path); !st) return st.error();
  out.path = url_decode(path, false);
  if (q != std::string_view::npos)
    if (auto st = parse_query(target.substr(q + 1), out.query); !st) return st.error();
  return out;
}

status validate_header_value(std::string_view name, std::string_view value) {
  auto problem = text_problem(value, true);
  if (problem.empty()) return ok();
  std::string field(name);
  return make_error(errc::invalid_argument,
                    "header " + field + " " + problem + "; expected UTF-8 text without control characters but tab",
                    field);
}

}  // namespace provisiond::gateway
