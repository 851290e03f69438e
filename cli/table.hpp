#pragma once
/// Human output: aligned tables and "Label: value" blocks. Every cell goes
/// through printable(), so a name or message from the API cannot carry
/// terminal escape sequences to the operator's screen.

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace provisiond::cli {

/// The text with control characters (C0, DEL, C1) escaped as \n, \t, \xNN
/// or \u{NN}; everything else, UTF-8 included, as it is.
std::string printable(std::string_view text);

/// The first `max` code points of `text`, ending in "…" if it was longer.
std::string shorten(const std::string& text, std::size_t max);

/// Columns as wide as their widest cell (counted in code points), two
/// spaces apart; a cell over `max_cell` code points is cut with "…" (the
/// last column is never cut).
class table {
 public:
  explicit table(std::vector<std::string> headers, std::size_t max_cell = 48);
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::size_t max_cell_;
};

/// "Label:  value" lines with the values aligned; empty values are left out.
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace provisiond::cli
