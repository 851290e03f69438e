#include "cli/args.hpp"

#include <charconv>
#include <sstream>

namespace provisiond::cli {

namespace {

// Global flags; the command's own come from its spec.
const std::vector<flag_spec> global_flags = {
    {"--url", "URL", "provisiond's base URL (default $PROVISIOND_URL, the config file's url, http://127.0.0.1:8080)"},
    {"--config", "FILE", "config file (default ~/.config/provisionctl/config.json)"},
    {"--output", "FORMAT", "table (default) or json: the API's JSON as it answered"},
    {"-o", "FORMAT", "same as --output"},
    {"--timeout", "SECONDS", "give up after this long (default 30 s per call; watch: no limit)"},
    {"--help", "", "this help"},
    {"-h", "", "same as --help"},
};

const flag_spec* find_flag(const std::vector<flag_spec>& flags, std::string_view name) {
  for (const auto& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// A flag token split into its name and an inline value ("--url=x", "-ojson").
struct flag_token {
  std::string name;
  std::optional<std::string> inline_value;
};

flag_token split_flag(const std::string& token) {
  if (token.rfind("--", 0) == 0) {
    auto eq = token.find('=');
    if (eq == std::string::npos) return {token, std::nullopt};
    return {token.substr(0, eq), token.substr(eq + 1)};
  }
  if (token.size() > 2) {  // -ojson, -o=json
    auto rest = token.substr(2);
    if (rest.front() == '=') rest.erase(0, 1);
    return {token.substr(0, 2), rest};
  }
  return {token, std::nullopt};
}

class parser {
 public:
  parser(std::span<const std::string> argv, std::span<const command_spec> commands)
      : argv_(argv), commands_(commands) {}

  parse_outcome run() {
    bool only_positionals = false;
    for (i_ = 0; i_ < argv_.size(); ++i_) {
      const std::string& a = argv_[i_];
      if (!only_positionals && a == "--") {
        only_positionals = true;
      } else if (!only_positionals && a.size() > 1 && a[0] == '-') {
        if (!take_flag(a)) return fail();
      } else if (!spec_) {
        if (!take_word(a)) return fail();
      } else {
        inv_.positionals.push_back(a);
      }
    }
    if (inv_.globals.help) {
      inv_.command = spec_;
      return {std::move(inv_), {}};
    }
    if (!spec_) {
      if (words_.empty())
        error_ = {"no command given", nullptr};
      else
        error_ = {"'" + join_words(words_) + "' needs a subcommand: " + subcommands(join_words(words_)), nullptr};
      return fail();
    }
    auto n = inv_.positionals.size();
    if (n < spec_->min_args || n > spec_->max_args) {
      std::string expected = spec_->args.empty() ? "no arguments" : std::string(spec_->args);
      error_ = {std::string(spec_->path) + " takes " + expected + ", got " + std::to_string(n) + " argument" +
                    (n == 1 ? "" : "s"),
                spec_};
      return fail();
    }
    inv_.command = spec_;
    return {std::move(inv_), {}};
  }

 private:
  parse_outcome fail() { return {std::nullopt, error_}; }

  std::string subcommands(const std::string& prefix) const {
    std::string out;
    for (const auto& c : commands_)
      if (c.path.rfind(prefix + " ", 0) == 0)
        out += (out.empty() ? "" : ", ") + std::string(c.path.substr(prefix.size() + 1));
    return out;
  }

  bool take_word(const std::string& w) {
    words_.push_back(w);
    auto path = join_words(words_);
    for (const auto& c : commands_)
      if (c.path == path) {
        spec_ = &c;
        return true;
      }
    if (!subcommands(path).empty()) return true;  // a group ("clusters"): its subcommand follows
    if (words_.size() == 1)
      error_ = {"unknown command '" + w + "'", nullptr};
    else
      error_ = {"unknown subcommand '" + w + "' of " + words_.front() + "; expected " + subcommands(words_.front()),
                nullptr};
    return false;
  }

  bool take_flag(const std::string& token) {
    auto [name, inline_value] = split_flag(token);
    const flag_spec* f = find_flag(global_flags, name);
    bool global = f != nullptr;
    if (!f && spec_) f = find_flag(spec_->flags, name);
    if (!f) {
      error_ = {"unknown flag " + name + (spec_ ? " for " + std::string(spec_->path) : std::string{}), spec_};
      return false;
    }
    std::string value;
    if (f->value.empty()) {
      if (inline_value) {
        error_ = {name + " takes no value", spec_};
        return false;
      }
    } else if (inline_value) {
      value = *inline_value;
    } else if (i_ + 1 < argv_.size()) {
      value = argv_[++i_];
    } else {
      error_ = {name + " needs a value (" + std::string(f->value) + ")", spec_};
      return false;
    }
    return global ? set_global(name, value) : set_command_flag(*f, value);
  }

  bool set_global(const std::string& name, const std::string& value) {
    auto& g = inv_.globals;
    if (name == "--url")
      g.url = value;
    else if (name == "--config")
      g.config = value;
    else if (name == "--help" || name == "-h")
      g.help = true;
    else if (name == "--output" || name == "-o") {
      if (value == "table")
        g.output = output_format::table;
      else if (value == "json")
        g.output = output_format::json;
      else {
        error_ = {name + ": expected table or json, got '" + value + "'", spec_};
        return false;
      }
    } else if (name == "--timeout") {
      double s = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
      if (ec != std::errc{} || end != value.data() + value.size() || !(s > 0) || s > 86400) {
        error_ = {"--timeout: expected seconds (more than 0, at most 86400), got '" + value + "'", spec_};
        return false;
      }
      g.timeout_seconds = s;
    }
    return true;
  }

  bool set_command_flag(const flag_spec& f, const std::string& value) {
    auto& slot = inv_.flags[std::string(f.name)];
    if (!slot.empty() && !f.repeatable) {
      error_ = {std::string(f.name) + " given twice", spec_};
      return false;
    }
    slot.push_back(value);
    return true;
  }

  std::span<const std::string> argv_;
  std::span<const command_spec> commands_;
  std::size_t i_ = 0;
  std::vector<std::string> words_;
  const command_spec* spec_ = nullptr;
  invocation inv_;
  usage_error error_;
};

void append_flags(std::ostringstream& out, const std::vector<flag_spec>& flags) {
  for (const auto& f : flags) {
    std::string left = "  " + std::string(f.name) + (f.value.empty() ? "" : " " + std::string(f.value));
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "  ";
    out << left << f.help << (f.repeatable ? " (repeatable)" : "") << "\n";
  }
}

}  // namespace

std::optional<std::string> invocation::value(std::string_view flag) const {
  auto it = flags.find(flag);
  if (it == flags.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> invocation::values(std::string_view flag) const {
  auto it = flags.find(flag);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

parse_outcome parse_arguments(std::span<const std::string> argv, std::span<const command_spec> commands) {
  return parser{argv, commands}.run();
}

std::string command_usage(const command_spec& c) {
  std::ostringstream out;
  out << "usage: provisionctl " << c.path << (c.args.empty() ? "" : " ") << c.args
      << (c.flags.empty() ? "" : " [flags]") << "\n  " << c.summary << "\n";
  if (!c.flags.empty()) {
    out << "flags:\n";
    append_flags(out, c.flags);
  }
  out << "global flags: --url URL, --config FILE, -o table|json, --timeout SECONDS (provisionctl --help)\n";
  return out.str();
}

std::string general_usage(std::span<const command_spec> commands) {
  std::ostringstream out;
  out << "usage: provisionctl [global flags] COMMAND [arguments] [flags]\n\ncommands:\n";
  for (const auto& c : commands) {
    std::string left = "  " + std::string(c.path) + (c.args.empty() ? "" : " " + std::string(c.args));
    if (left.size() < 34)
      left.resize(34, ' ');
    else
      left += "  ";
    out << left << c.summary << "\n";
  }
  out << "\nglobal flags:\n";
  append_flags(out, global_flags);
  out << "\nThe token comes from $PROVISIOND_TOKEN or the config file's \"token\" ({\"url\":…,\"token\":…}).\n"
         "Exit codes: 0 ok, 1 usage, 2 not found, 3 conflict, 4 refused, 5 unavailable.\n"
         "provisionctl COMMAND --help shows a command's flags.\n";
  return out.str();
}

result<long long> parse_integer(std::string_view flag, const std::string& text) {
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return make_error(errc::invalid_argument, std::string(flag) + ": expected an integer, got '" + text + "'",
                      std::string(flag));
  return v;
}

}  // namespace provisiond::cli
