#pragma once
/// The `auth` section of the configuration (parsed in app/config.cpp).

#include <map>
#include <optional>
#include <string>

#include "auth/principal.hpp"

namespace provisiond::auth {

struct jwt_settings {
  std::string issuer;      ///< required `iss`
  std::string audience;    ///< `aud` must be or contain this
  std::string jwks_file;   ///< a JWKS document on disk (re-read when it changes) ...
  std::string jwks_url;    ///< ... or fetched from the IdP (https, or http on loopback)
  std::string jwks_ca_file;  ///< CA bundle for jwks_url; empty: the system's
  int clock_skew_s = 60;     ///< exp/nbf tolerance, at most 300
  int jwks_refresh_s = 300;  ///< a fetched JWKS is re-fetched this often (and on an unknown kid, at most every 30 s)
  std::string tenant_claim = "tenant_id";
  std::string roles_claim = "roles";  ///< an array of strings or a space-separated string
  /// Claim value → role name ("tenant", "tenant-readonly", "saga", "admin");
  /// values not listed that are themselves role names map to that role.
  std::map<std::string, std::string> role_map;
};

/// A client certificate's identity (`auth.clientCertificates`).
struct certificate_identity {
  role r = role::tenant_readonly;
  std::string tenant;
};

struct settings {
  std::string admin_key_file;  ///< empty: <dataDir>/admin-api-key
  bool bootstrap_admin_key = true;
  bool public_metrics = false;  ///< GET /metrics without credentials
  std::optional<jwt_settings> jwt;
  std::map<std::string, certificate_identity> client_certificates;  ///< RFC 2253 subject → identity
};

}  // namespace provisiond::auth
