#pragma once
/// Who is calling, once authenticated: the roles of issue 15 and the tenant
/// a tenant's credentials are bound to. No CAF, no Beast, no OpenSSL here.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace provisiond::auth {

/// The roles, weakest first.
enum class role {
  tenant_readonly,  ///< one tenant's requests, usage, webhooks: read only
  tenant,           ///< one tenant's requests, usage, webhooks, credentials: read and act
  saga,             ///< the Order saga: submit and lifecycle for any tenant; no cluster or rule admin
  admin,            ///< the platform's operators: everything, every tenant
};

inline constexpr std::array<std::string_view, 4> role_names = {"tenant-readonly", "tenant", "saga", "admin"};
inline std::string_view to_string(role r) { return role_names[static_cast<std::size_t>(r)]; }
inline std::optional<role> parse_role(std::string_view s) {
  for (std::size_t i = 0; i < role_names.size(); ++i)
    if (role_names[i] == s) return static_cast<role>(i);
  return std::nullopt;
}

/// An authenticated caller.
struct principal {
  role r = role::tenant_readonly;
  std::string tenant;      ///< set for tenant roles only: the one tenant it may see
  bool read_only = false;  ///< a read-scoped API key (and every tenant-readonly caller)
  /// For audit lines: "key:<id>", "jwt:<iss>#<sub>", "cert:<subject>"; never a secret.
  std::string subject;

  bool tenant_scoped() const noexcept { return r == role::tenant || r == role::tenant_readonly; }
  bool may_write() const noexcept { return !read_only && r != role::tenant_readonly; }
  /// May this caller see `tenant_id`'s objects?
  bool sees(std::string_view tenant_id) const noexcept { return !tenant_scoped() || tenant == tenant_id; }
};

/// The caller the in-process API (tests, tools) acts as when no
/// authenticator is wired.
inline principal in_process_admin() { return principal{role::admin, {}, false, "in-process"}; }

}  // namespace provisiond::auth
