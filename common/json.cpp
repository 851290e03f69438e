#include "common/json.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace provisiond {

using nlohmann::json;

namespace {

// One open array or object on the parser's way down.
struct frame {
  bool array = false;
  std::size_t next_index = 0;  // arrays: the index the next value gets
  std::string key;             // objects: the key of the value being read
  std::unordered_set<std::string> keys;
};

std::string printable(const std::string& key) {
  std::string out;
  for (unsigned char c : key) out += (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : static_cast<char>(c);
  return out;
}

std::string bytes(std::size_t n) {
  return n % 1024 == 0 ? std::to_string(n / 1024) + " KiB" : std::to_string(n) + " bytes";
}

bool has_control_char(const std::string& s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return true;
  return false;
}

// Counts depth and keys while nlohmann's own DOM builder does the building;
// returning false from any event stops the parse there. nlohmann's parser is
// iterative, so the document's depth never touches this thread's stack.
class guarded_sax {
 public:
  using dom = nlohmann::detail::json_sax_dom_parser<json>;

  guarded_sax(json& out, const json_limits& limits) : dom_(out, false), limits_(limits) {}

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return value() && dom_.number_float(v, s); }
  bool string(json::string_t& v) {
    if (!value()) return false;
    if (v.size() > limits_.max_string_bytes) return fail("a string over " + bytes(limits_.max_string_bytes));
    if (!limits_.allow_control_chars && has_control_char(v))
      return fail("a control character in a string (only TAB, LF and CR are allowed)");
    return dom_.string(v);
  }
  bool binary(json::binary_t& v) { return value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return open(false) && dom_.start_object(n); }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return open(true) && dom_.start_array(n); }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }
  bool key(json::string_t& k) {
    auto& f = frames_.back();
    f.key = k;
    in_value_ = true;
    if (k.size() > limits_.max_string_bytes) return fail("a key over " + bytes(limits_.max_string_bytes));
    if (f.keys.size() >= limits_.max_items)
      return fail("an object with more than " + std::to_string(limits_.max_items) + " members");
    if (!limits_.allow_control_chars && has_control_char(k)) return fail("a control character in a key");
    if (!limits_.allow_duplicate_keys && !f.keys.insert(k).second)
      return fail("duplicate key \"" + printable(k) + "\"; each key may appear once");
    return dom_.key(k);
  }
  // The lexer's own refusals that concern one string or number get its
  // path; other syntax errors stay "<what> is not valid JSON" at "$".
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error_at_ = position;
    std::string_view what = e.what();
    if (e.id == 406) {
      value();  // numbers are values; the failed one takes its array index
      return fail("a number out of range (beyond what a double holds)");
    }
    std::string why;
    if (what.find("ill-formed UTF-8") != std::string_view::npos || what.find("surrogate") != std::string_view::npos)
      why = "ill-formed UTF-8 in a ";
    else if (what.find("control character") != std::string_view::npos)
      why = "an unescaped control character in a ";
    else
      return false;
    if (frames_.empty() || frames_.back().array || in_value_) {
      value();
      return fail(why + "string");
    }
    // Between an object's members the lexer was reading a key: name the object.
    frames_.back().key.clear();
    frames_.back().keys.clear();
    return fail(why + "key");
  }

  const std::string& failure() const { return failure_; }
  std::size_t syntax_error_at() const { return syntax_error_at_; }
  std::string path() const {
    std::string p;
    for (const auto& f : frames_) {
      if (f.array)
        p += "[" + std::to_string(f.next_index == 0 ? 0 : f.next_index - 1) + "]";
      else if (!f.key.empty() || !f.keys.empty())
        p += (p.empty() ? "" : ".") + printable(f.key);
    }
    return p.empty() ? "$" : p;
  }

 private:
  // Every value (scalar or container) takes the next index of its array.
  bool value() {
    in_value_ = false;
    if (frames_.empty() || !frames_.back().array) return true;
    if (frames_.back().next_index++ >= limits_.max_items)
      return fail("an array with more than " + std::to_string(limits_.max_items) + " elements");
    return true;
  }
  bool open(bool array) {
    if (!value()) return false;
    if (frames_.size() >= limits_.max_depth)
      return fail("nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    frames_.push_back(frame{array, 0, {}, {}});
    return true;
  }
  bool fail(std::string why) {
    failure_ = std::move(why);
    return false;
  }

  dom dom_;
  const json_limits& limits_;
  std::vector<frame> frames_;
  std::string failure_;
  std::size_t syntax_error_at_ = 0;
  bool in_value_ = false;  // a key was read; its value comes next
};

}  // namespace

result<json> parse_json(std::string_view text, const char* what, const json_limits& limits) {
  json out;
  guarded_sax sax{out, limits};
  bool ok = false;
  try {
    ok = json::sax_parse(text, &sax, json::input_format_t::json, true, false);
  } catch (const std::exception&) {
    ok = false;  // nlohmann may still throw on a few pathological inputs; refuse them
  }
  if (ok) return out;
  if (!sax.failure().empty()) return make_error(errc::invalid_argument, sax.failure(), sax.path());
  return make_error(errc::invalid_argument, std::string(what) + " is not valid JSON", "$");
}

json parse_json_lenient(std::string_view text) {
  static const json_limits lenient{64, true, true, SIZE_MAX, SIZE_MAX};
  auto parsed = parse_json(text, "reply", lenient);
  return parsed ? std::move(*parsed) : json(json::value_t::discarded);
}

std::string dump_json(const json& j) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";  // unreachable with the replace handler; kept so no caller sees an exception
  }
}

namespace {

// Depth-first walk with an explicit stack (the value is bounded by the
// parser's limit anyway, but this stays flat whatever it gets).
status walk(const json& root, const std::string& field, const kept_value_limits& limits) {
  struct item {
    const json* v;
    std::size_t depth;
    std::string path;
  };
  std::vector<item> todo{{&root, 0, field}};
  std::size_t keys = 0;
  while (!todo.empty()) {
    auto it = std::move(todo.back());
    todo.pop_back();
    if (!it.v->is_structured()) continue;
    if (it.depth >= limits.max_depth)
      return make_error(errc::invalid_argument, "nested deeper than " + std::to_string(limits.max_depth) + " levels",
                        it.path);
    if (it.v->is_object()) {
      keys += it.v->size();
      if (keys > limits.max_keys)
        return make_error(errc::invalid_argument, "more than " + std::to_string(limits.max_keys) + " keys in all",
                          field);
      for (auto& [k, v] : it.v->items()) todo.push_back({&v, it.depth + 1, it.path + "." + printable(k)});
    } else {
      std::size_t i = 0;
      for (auto& v : *it.v) todo.push_back({&v, it.depth + 1, it.path + "[" + std::to_string(i++) + "]"});
    }
  }
  return ok();
}

}  // namespace

status check_kept_value(const json& j, const std::string& field, const kept_value_limits& limits) {
  if (auto st = walk(j, field, limits); !st) return st;
  if (dump_json(j).size() > limits.max_bytes)
    return make_error(errc::invalid_argument, "over " + std::to_string(limits.max_bytes) + " bytes", field);
  return ok();
}

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf)
      len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
      len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
      len = 4, cp = c & 0x07;
    else
      return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += len;
  }
  return true;
}

}  // namespace provisiond
