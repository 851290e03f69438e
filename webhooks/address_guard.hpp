#pragma once
/// SSRF protection for tenant webhook URLs. A URL is parsed here (not by the
/// HTTP client), its host resolved once, and every resolved address must be
/// public unless the operator allowed it. The delivery then connects to the
/// address that was checked, sending `host` as Host header and SNI, so a DNS
/// answer that changes between check and connect (rebinding) cannot move it.
/// Check at registration and again before every delivery attempt; never
/// follow a redirect without checking its Location the same way.

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace provisiond::webhooks {

/// A checked URL: where to connect and what to send.
struct destination {
  std::string url;     ///< as given
  bool tls = false;
  std::string host;    ///< as written (Host header, SNI); brackets removed for IPv6
  std::string port;    ///< decimal, "443"/"80" by default
  std::string target;  ///< path and query, at least "/"; the fragment is dropped
  std::string address;  ///< the checked numeric address to connect to ("93.184.216.34", "2001:db8::1")
  std::vector<std::string> addresses;  ///< every checked address, `address` first (for fallback)
};

struct guard_options {
  /// Operator allow-list: CIDRs ("127.0.0.0/8", "::1/128"), single addresses
  /// ("10.1.2.3") or host names ("hooks.internal", exact, case-insensitive,
  /// a trailing dot ignored). An allowed name, or an address inside an
  /// allowed CIDR, passes even if non-public.
  std::vector<std::string> allow;
  /// Static name → numeric addresses, consulted before DNS (like /etc/hosts).
  std::map<std::string, std::vector<std::string>> hosts;
};

class address_guard {
 public:
  /// Validates the options; a bad CIDR is errc::invalid_argument naming field
  /// "webhooks.allow[<i>]", a bad static entry names "webhooks.hosts.<name>".
  static result<address_guard> make(guard_options opts);

  /// Parses and checks `url`. Errors name field "url" and say what a tenant
  /// can fix: errc::invalid_argument ("expected an http or https URL",
  /// "must not contain user information", "host does not resolve",
  /// "resolves to 10.0.0.5, a private address (RFC 1918)", ...; a refused
  /// address is always named with its class), or errc::retryable when the
  /// name lookup failed temporarily. Thread-safe; may block on DNS.
  result<destination> check(const std::string& url) const;

 private:
  struct cidr {
    bool v6 = false;
    unsigned char bytes[16] = {};
    int prefix = 0;
  };
  address_guard() = default;
  bool allowed_address(const std::string& address) const;

  std::vector<cidr> allow_cidrs_;
  std::vector<std::string> allow_names_;                        ///< lower case, no trailing dot
  std::map<std::string, std::vector<std::string>> hosts_;       ///< same keys; canonical addresses
};

/// "" when `address` (numeric dotted-quad IPv4 or IPv6 text) is public, else
/// its class: "loopback", "private (RFC 1918)", "link-local", ... An address
/// embedding IPv4 (mapped, compatible, NAT64, 6to4) takes the embedded
/// address's class with the embedding noted. Text that is not a numeric
/// address is "not a numeric address" (never "").
std::string non_public_class(const std::string& address);

}  // namespace provisiond::webhooks
