#pragma once
/// Strong identifier types and the injectable id source.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace provisiond {

/// A string identifier that cannot be mixed up with another kind of id.
template <class Tag>
class named_id {
 public:
  named_id() = default;
  explicit named_id(std::string value) : value_(std::move(value)) {}
  const std::string& str() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  friend bool operator==(const named_id&, const named_id&) = default;
  friend auto operator<=>(const named_id&, const named_id&) = default;

 private:
  std::string value_;
};

using request_id = named_id<struct request_id_tag>;
using tenant_id = named_id<struct tenant_id_tag>;
using cluster_id = named_id<struct cluster_id_tag>;

/// Produces fresh request ids. Injected so that a seeded run replays exactly.
/// Thread-safe.
class id_source {
 public:
  virtual ~id_source() = default;
  virtual request_id next_request_id() = 0;
};

/// Random ids ("req-" + 20 hex digits) from a seeded generator; seed 0 means
/// seed from std::random_device.
std::unique_ptr<id_source> make_random_id_source(std::uint64_t seed = 0);

/// True if `s` is shaped like an id this system would issue or accept
/// (request, tenant, cluster, rule ids, regions): 1-64 characters of
/// [A-Za-z0-9._-], the first a letter or digit — so never "." or "..", never
/// a path, never a control byte.
bool is_valid_id(std::string_view s) noexcept;

/// An order id from the Order saga: 1-128 characters of [A-Za-z0-9._:-],
/// the first a letter or digit (UUIDs, URNs, "order-1001").
bool is_valid_order_id(std::string_view s) noexcept;

}  // namespace provisiond

template <class Tag>
struct std::hash<provisiond::named_id<Tag>> {
  std::size_t operator()(const provisiond::named_id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
