#pragma once
/// Lists of accepted names, and how error messages spell them. The catalog
/// of every name list is events/catalog.hpp; the one list common/ itself
/// checks (cluster types, in config files and cluster bodies) lives here
/// because common/ cannot depend on events/, and the catalog re-exports it.

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace provisiond {

/// Provider kinds a cluster may have (`cluster_config::type`), which are also
/// the `provider` values a request may name. In the order messages list them.
inline constexpr std::array<std::string_view, 7> cluster_types = {
    "simulation", "manual", "openstack", "openshift", "kubernetes", "proxmox", "vmware"};

/// True if `name` is in `names` (any range of string-like values).
template <class Names>
bool is_one_of(const Names& names, std::string_view name) noexcept {
  return std::any_of(std::begin(names), std::end(names), [&](const auto& n) { return std::string_view(n) == name; });
}

/// "a, b, c": the names as "expected one of ..." messages list them.
template <class Names>
std::string join_names(const Names& names, std::string_view separator = ", ") {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += separator;
    out += std::string_view(n);
  }
  return out;
}

}  // namespace provisiond
