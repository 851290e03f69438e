#include "cli/table.hpp"

#include <algorithm>

namespace provisiond::cli {

namespace {

const char* hex = "0123456789abcdef";

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;  // not a continuation byte
  }));
}

// The first `n` code points of `s`.
std::string_view first_code_points(std::string_view s, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

}  // namespace

std::string shorten(const std::string& text, std::size_t max) {
  if (max == 0 || code_points(text) <= max) return text;
  return std::string(first_code_points(text, max - 1)) + "…";
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto ch = static_cast<unsigned char>(text[i]);
    if (ch == '\n')
      out += "\\n";
    else if (ch == '\t')
      out += "\\t";
    else if (ch == '\r')
      out += "\\r";
    else if (ch < 0x20 || ch == 0x7f) {
      out += "\\x";
      out += hex[ch >> 4];
      out += hex[ch & 15];
    } else if (ch == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080..U+009F: C1 controls (a lone CSI starts an escape sequence on some terminals).
      auto c1 = static_cast<unsigned char>(text[++i]);
      out += "\\u{";
      out += hex[c1 >> 4];
      out += hex[c1 & 15];
      out += "}";
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

table::table(std::vector<std::string> headers, std::size_t max_cell)
    : headers_(std::move(headers)), max_cell_(std::max<std::size_t>(max_cell, 4)) {}

void table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  for (std::size_t i = 0; i < row.size(); ++i) {
    row[i] = printable(row[i]);
    if (i + 1 < row.size()) row[i] = shorten(row[i], max_cell_);
  }
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) width[i] = code_points(headers_[i]);
  for (const auto& r : rows_)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], code_points(r[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s += std::string(width[i] - code_points(cells[i]) + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
}

void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& [label, value] : fields)
    if (!value.empty()) width = std::max(width, code_points(label));
  for (const auto& [label, value] : fields) {
    if (value.empty()) continue;
    out << label << ":" << std::string(width - code_points(label) + 2, ' ') << printable(value) << "\n";
  }
}

}  // namespace provisiond::cli
