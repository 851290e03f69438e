#pragma once
/// Reads typed fields out of a JSON object (config file, cluster bodies) and
/// remembers the first error, with the dotted path of the offending field.

#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace provisiond::detail {

using nlohmann::json;

class reader {
 public:
  reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  bool check_object(std::optional<error>& err, const std::set<std::string>& allowed) const {
    if (!j_.is_object()) {
      err = make_error(errc::invalid_argument, "expected an object", path_.empty() ? "$" : path_);
      return false;
    }
    for (auto& [k, v] : j_.items()) {
      (void)v;
      if (!allowed.count(k)) {
        err = make_error(errc::invalid_argument, "unknown configuration key", field(k));
        return false;
      }
    }
    return true;
  }

  template <class T>
  void number(const char* key, T& out, std::optional<error>& err, double lo, double hi) const {
    if (err || !j_.contains(key)) return;
    const auto& v = j_.at(key);
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
      std::ostringstream msg;
      msg << "expected a number in [" << lo << ", " << hi << "]";
      err = make_error(errc::invalid_argument, msg.str(), field(key));
      return;
    }
    out = v.get<T>();
  }

  void string(const char* key, std::string& out, std::optional<error>& err) const {
    if (err || !j_.contains(key)) return;
    const auto& v = j_.at(key);
    if (!v.is_string() || v.get<std::string>().empty()) {
      err = make_error(errc::invalid_argument, "expected a non-empty string", field(key));
      return;
    }
    out = v.get<std::string>();
  }

  void boolean(const char* key, bool& out, std::optional<error>& err) const {
    if (err || !j_.contains(key)) return;
    const auto& v = j_.at(key);
    if (!v.is_boolean()) {
      err = make_error(errc::invalid_argument, "expected true or false", field(key));
      return;
    }
    out = v.get<bool>();
  }

 private:
  const json& j_;
  std::string path_;
};

}  // namespace provisiond::detail
