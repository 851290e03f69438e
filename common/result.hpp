#pragma once
/// Expected failures as values: a small error type whose codes say what the
/// caller should do, and result<T> that holds either a T or such an error.

#include <string>
#include <utility>
#include <variant>

namespace provisiond {

/// Error codes name the caller's next move, not the cause.
enum class errc {
  invalid_argument,  ///< the input is wrong; fix it (400)
  not_found,         ///< no such thing (404)
  conflict,          ///< state or version mismatch; reread and decide again (409)
  retryable,         ///< transient; the same call may succeed later
  permanent,         ///< will not succeed by repeating it
  unavailable,       ///< the component is shutting down or not ready (503)
  too_large,         ///< payload over the limit (413)
  unsupported,       ///< a capability not built yet
  fenced,            ///< a newer owner holds this (higher fencing token); stop writing (503)
  internal,          ///< a bug or corrupted storage
  unauthenticated,   ///< no or bad credentials (401)
  forbidden,         ///< credentials that do not allow this (403)
};

/// Wire name of an error code ("invalid_argument", ...).
const char* to_string(errc code) noexcept;

struct error {
  errc code = errc::internal;
  std::string message;
  std::string field;  ///< the offending input field, if any
};

inline error make_error(errc code, std::string message, std::string field = {}) {
  return error{code, std::move(message), std::move(field)};
}

/// Either a value or an error. Cheap to move; never throws on access misuse
/// because callers check has_value() first (asserted in debug builds).
template <class T>
class result {
 public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(provisiond::error err) : data_(std::in_place_index<1>, std::move(err)) {}

  bool has_value() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &std::get<0>(data_); }
  const T* operator->() const { return &std::get<0>(data_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(data_)); }

  const provisiond::error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, provisiond::error> data_;
};

struct ok_t {};
/// A result without a value.
using status = result<ok_t>;
inline status ok() { return ok_t{}; }

}  // namespace provisiond
