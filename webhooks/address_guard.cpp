#include "webhooks/address_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace provisiond::webhooks {

namespace {

constexpr std::size_t max_url_size = 4096;

// A numeric address; IPv4 uses the first four bytes.
struct ip {
  bool v6 = false;
  std::array<unsigned char, 16> b{};
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Strict numeric text only: dotted-quad IPv4 or IPv6 (inet_pton).
std::optional<ip> parse_strict(const std::string& text) {
  ip out;
  if (::inet_pton(AF_INET, text.c_str(), out.b.data()) == 1) return out;
  out.v6 = true;
  if (::inet_pton(AF_INET6, text.c_str(), out.b.data()) == 1) return out;
  return std::nullopt;
}

std::string to_text(const ip& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.b.data(), buf, sizeof buf);
  return buf;
}

ip v4_from(const unsigned char* p) {
  ip out;
  std::memcpy(out.b.data(), p, 4);
  return out;
}

bool starts_with_bytes(const ip& a, std::initializer_list<unsigned char> prefix) {
  std::size_t i = 0;
  for (auto c : prefix)
    if (a.b[i++] != c) return false;
  return true;
}

bool is_mapped(const ip& a) {
  return a.v6 && starts_with_bytes(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
}

// What a delivery connects to: an IPv4-mapped address as plain IPv4.
std::string connect_text(const ip& a) { return is_mapped(a) ? to_text(v4_from(&a.b[12])) : to_text(a); }

std::string classify(const ip& a);

std::string classify_v4(const ip& a) {
  std::uint32_t v = (std::uint32_t{a.b[0]} << 24) | (std::uint32_t{a.b[1]} << 16) | (std::uint32_t{a.b[2]} << 8) | a.b[3];
  auto in = [v](std::uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
  if (v == 0) return "unspecified";
  if (in(0x00000000, 8)) return "this-network (0.0.0.0/8)";
  if (in(0x7f000000, 8)) return "loopback";
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return "private (RFC 1918)";
  if (in(0x64400000, 10)) return "shared (CGNAT, RFC 6598)";
  if (v == 0xa9fea9fe) return "link-local (cloud metadata)";
  if (in(0xa9fe0000, 16)) return "link-local";
  if (in(0xc0000000, 24)) return "IETF protocol (192.0.0.0/24)";
  if (in(0xc0000200, 24) || in(0xc6336400, 24) || in(0xcb007100, 24)) return "documentation";
  if (in(0xc6120000, 15)) return "benchmarking (198.18.0.0/15)";
  if (in(0xe0000000, 4)) return "multicast";
  if (v == 0xffffffff) return "broadcast";
  if (in(0xf0000000, 4)) return "reserved (240.0.0.0/4)";
  return "";
}

// The class of an IPv4 address carried inside an IPv6 one, the carrier noted.
std::string embedded(const ip& v4, const char* how) {
  auto cls = classify_v4(v4);
  if (cls.empty()) return cls;
  auto note = std::string(how) + " " + to_text(v4);
  auto open = cls.find(" (");
  if (open == std::string::npos) return cls + " (" + note + ")";
  return cls.substr(0, cls.size() - 1) + ", " + note + ")";
}

std::string classify_v6(const ip& a) {
  const auto& b = a.b;
  bool first12_zero = std::all_of(b.begin(), b.begin() + 12, [](unsigned char c) { return c == 0; });
  if (first12_zero && b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0) return "unspecified";
  if (first12_zero && b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 1) return "loopback";
  if (is_mapped(a)) return embedded(v4_from(&b[12]), "IPv4-mapped");
  if (first12_zero) return embedded(v4_from(&b[12]), "IPv4-compatible");
  if (starts_with_bytes(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return embedded(v4_from(&b[12]), "NAT64");
  if (b[0] == 0x20 && b[1] == 0x02) return embedded(v4_from(&b[2]), "6to4");
  if (starts_with_bytes(a, {0x20, 0x01, 0, 0})) {  // Teredo: the client's address, inverted
    unsigned char client[4] = {static_cast<unsigned char>(~b[12]), static_cast<unsigned char>(~b[13]),
                               static_cast<unsigned char>(~b[14]), static_cast<unsigned char>(~b[15])};
    return embedded(v4_from(client), "Teredo");
  }
  if (b[0] == 0xff) return "multicast";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if ((b[0] & 0xfe) == 0xfc) return "unique local (ULA)";
  if (starts_with_bytes(a, {0x20, 0x01, 0x0d, 0xb8})) return "documentation";
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) return "documentation";  // 3fff::/20, RFC 9637
  if (starts_with_bytes(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) return "discard (100::/64)";
  if ((b[0] & 0xe0) != 0x20) return "reserved (outside 2000::/3)";  // nothing else is allocated for unicast
  return "";
}

std::string classify(const ip& a) { return a.v6 ? classify_v6(a) : classify_v4(a); }

// "resolves to 10.0.0.5, a private address (RFC 1918)".
std::string refusal(const std::string& address, const std::string& cls) {
  auto open = cls.find(" (");
  auto main = cls.substr(0, open);
  auto rest = open == std::string::npos ? std::string{} : cls.substr(open);
  bool an = main.rfind("unspecified", 0) == 0 || main.rfind("IETF", 0) == 0 ||
            (!main.empty() && std::string_view("aeio").find(main.front()) != std::string_view::npos);
  return "resolves to " + address + ", " + (an ? "an " : "a ") + main + " address" + rest;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Lower case, one trailing dot removed; empty when not a valid host name.
std::string normalize_name(std::string_view written) {
  auto name = lower(written);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > 253) return {};
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return {};
      label = 0;
    } else if (!name_char(c) || ++label > 63) {
      return {};
    }
  }
  return label == 0 ? std::string{} : name;
}

// The numeric forms glibc's getaddrinfo accepts for IPv4 (inet_aton: decimal,
// octal, hex, one to four parts).
std::optional<ip> parse_aton(const std::string& name) {
  in_addr addr{};
  if (::inet_aton(name.c_str(), &addr) == 0) return std::nullopt;
  ip out;
  std::memcpy(out.b.data(), &addr.s_addr, 4);
  return out;
}

bool is_localhost(const std::string& name) {
  return name == "localhost" || (name.size() > 10 && name.compare(name.size() - 10, 10, ".localhost") == 0);
}

error url_error(std::string message) { return make_error(errc::invalid_argument, std::move(message), "url"); }

struct parsed {
  bool tls = false;
  bool bracketed = false;
  std::string host, port, target;
};

result<parsed> split(const std::string& url) {
  if (url.size() > max_url_size) return url_error("is longer than " + std::to_string(max_url_size) + " characters");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) return url_error("must not contain spaces, control or non-ASCII characters (percent-encode them)");
  auto sep = url.find("://");
  auto scheme = lower(url.substr(0, sep == std::string::npos ? 0 : sep));
  if (sep == std::string::npos || (scheme != "http" && scheme != "https")) return url_error("expected an http or https URL");
  parsed p;
  p.tls = scheme == "https";
  auto rest = std::string_view(url).substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  auto tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return url_error("must not contain user information");
  if (authority.empty()) return url_error("must name a host");

  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return url_error("has a malformed IPv6 address");
    auto inside = std::string(authority.substr(1, close - 1));
    if (inside.find('%') != std::string::npos) return url_error("must not contain an IPv6 zone id");
    in6_addr probe{};
    if (::inet_pton(AF_INET6, inside.c_str(), &probe) != 1) return url_error("has a malformed IPv6 address");
    p.host = inside;
    p.bracketed = true;
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_error("has a malformed IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return url_error("must write an IPv6 address in brackets, as in http://[2001:db8::1]/");
    p.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (p.host.empty()) return url_error("must name a host");
    if (p.host.find('%') != std::string::npos) return url_error("must not percent-encode the host");
    if (normalize_name(p.host).empty())
      return url_error("has an invalid host name (letters, digits, '-', '_' and dots; international names in their xn-- form)");
  }

  if (!has_port || port.empty()) {
    p.port = p.tls ? "443" : "80";
  } else {
    unsigned long value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return url_error("port must be a number from 1 to 65535");
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value < 1 || value > 65535) return url_error("port must be a number from 1 to 65535");
    p.port = std::to_string(value);
  }

  auto target = tail.substr(0, tail.find('#'));
  p.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return p;
}

}  // namespace

result<address_guard> address_guard::make(guard_options opts) {
  address_guard g;
  for (std::size_t i = 0; i < opts.allow.size(); ++i) {
    const auto& entry = opts.allow[i];
    auto field = "webhooks.allow[" + std::to_string(i) + "]";
    auto bad = [&](std::string why) { return make_error(errc::invalid_argument, "\"" + entry + "\" " + why, field); };
    auto slash = entry.find('/');
    auto addr_text = lower(entry.substr(0, slash));
    auto addr = parse_strict(addr_text);
    if (slash != std::string::npos) {
      if (!addr) return bad("is not a CIDR (expected address/prefix, as in 10.0.0.0/8 or fd00::/8)");
      auto prefix_text = entry.substr(slash + 1);
      int max = addr->v6 ? 128 : 32;
      int prefix = 0;
      bool digits = !prefix_text.empty() && prefix_text.size() <= 3 &&
                    std::all_of(prefix_text.begin(), prefix_text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) prefix = std::stoi(prefix_text);
      if (!digits || prefix > max)
        return bad("is not a CIDR: the prefix length must be 0 to " + std::to_string(max));
      ip masked = *addr;
      for (int bit = prefix; bit < max; ++bit) masked.b[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
      if (masked.b != addr->b)
        return bad("has bits set past its /" + prefix_text + " prefix; did you mean " + to_text(masked) + "/" + prefix_text + "?");
      cidr c;
      c.v6 = addr->v6;
      std::memcpy(c.bytes, addr->b.data(), 16);
      c.prefix = prefix;
      g.allow_cidrs_.push_back(c);
    } else if (addr) {
      cidr c;
      c.v6 = addr->v6;
      std::memcpy(c.bytes, addr->b.data(), 16);
      c.prefix = addr->v6 ? 128 : 32;
      g.allow_cidrs_.push_back(c);
    } else if (entry.find(':') != std::string::npos ||
               entry.find_first_not_of("0123456789.") == std::string::npos || parse_aton(addr_text)) {
      return bad("is not a valid address (write IPv4 as a.b.c.d, a network as a CIDR such as 10.0.0.0/8)");
    } else {
      auto name = normalize_name(entry);
      if (name.empty()) return bad("is neither a CIDR, an address nor a host name");
      g.allow_names_.push_back(name);
    }
  }
  for (const auto& [written, addresses] : opts.hosts) {
    auto field = "webhooks.hosts." + written;
    auto name = normalize_name(written);
    if (name.empty()) return make_error(errc::invalid_argument, "\"" + written + "\" is not a valid host name", field);
    if (parse_aton(name))
      return make_error(errc::invalid_argument, "\"" + written + "\" is a numeric address, not a name", field);
    if (g.hosts_.count(name))
      return make_error(errc::invalid_argument, "\"" + written + "\" is listed twice (names are case-insensitive)", field);
    if (addresses.empty()) return make_error(errc::invalid_argument, "\"" + written + "\" lists no addresses", field);
    auto& out = g.hosts_[name];
    for (const auto& a : addresses) {
      auto parsed = parse_strict(lower(a));
      if (!parsed)
        return make_error(errc::invalid_argument, "\"" + a + "\" is not a numeric IPv4 or IPv6 address", field);
      out.push_back(to_text(*parsed));
    }
  }
  return g;
}

bool address_guard::allowed_address(const std::string& address) const {
  auto a = parse_strict(address);
  if (!a) return false;
  auto inside = [](const cidr& c, const ip& x) {
    if (c.v6 != x.v6) return false;
    for (int bit = 0; bit < c.prefix; ++bit) {
      unsigned char mask = static_cast<unsigned char>(0x80 >> (bit % 8));
      if ((c.bytes[bit / 8] & mask) != (x.b[bit / 8] & mask)) return false;
    }
    return true;
  };
  std::optional<ip> unmapped;
  if (is_mapped(*a)) unmapped = v4_from(&a->b[12]);
  for (const auto& c : allow_cidrs_)
    if (inside(c, *a) || (unmapped && inside(c, *unmapped))) return true;
  return false;
}

result<destination> address_guard::check(const std::string& url) const {
  auto p = split(url);
  if (!p) return p.error();

  // Resolve: a bracketed literal, IPv4 in any numeric form, the static map,
  // localhost (RFC 6761), then DNS.
  std::vector<ip> found;
  std::string name = p->bracketed ? lower(p->host) : normalize_name(p->host);
  if (p->bracketed) {
    found.push_back(*parse_strict(name));
  } else if (auto v4 = parse_aton(name)) {
    found.push_back(*v4);
  } else if (auto it = hosts_.find(name); it != hosts_.end()) {
    for (const auto& a : it->second) found.push_back(*parse_strict(a));
  } else if (is_localhost(name)) {
    found.push_back(*parse_strict("127.0.0.1"));
    found.push_back(*parse_strict("::1"));
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    auto query = lower(p->host);  // as written: a trailing dot keeps the name absolute
    int rc = ::getaddrinfo(query.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
      if (rc == EAI_NONAME || rc == EAI_FAIL || rc == EAI_NODATA || rc == EAI_ADDRFAMILY)
        return url_error("host does not resolve");
      return make_error(errc::retryable, std::string("host name lookup failed, try again later: ") + ::gai_strerror(rc), "url");
    }
    for (auto* r = res; r; r = r->ai_next) {
      ip a;
      if (r->ai_family == AF_INET) {
        std::memcpy(a.b.data(), &reinterpret_cast<const sockaddr_in*>(r->ai_addr)->sin_addr, 4);
      } else if (r->ai_family == AF_INET6) {
        a.v6 = true;
        std::memcpy(a.b.data(), &reinterpret_cast<const sockaddr_in6*>(r->ai_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      found.push_back(a);
    }
    ::freeaddrinfo(res);
  }
  if (found.empty()) return url_error("host does not resolve");

  // Every address must pass: an answer mixing public and private is a rebinding trick.
  bool name_allowed = std::find(allow_names_.begin(), allow_names_.end(), name) != allow_names_.end();
  destination d;
  for (const auto& a : found) {
    auto text = to_text(a);
    if (!name_allowed && !allowed_address(text)) {
      auto cls = classify(a);
      if (!cls.empty()) return url_error(refusal(text, cls));
    }
    auto connect = connect_text(a);
    if (std::find(d.addresses.begin(), d.addresses.end(), connect) == d.addresses.end()) d.addresses.push_back(connect);
  }
  d.url = url;
  d.tls = p->tls;
  d.host = p->host;
  d.port = p->port;
  d.target = p->target;
  d.address = d.addresses.front();
  return d;
}

std::string non_public_class(const std::string& address) {
  auto a = parse_strict(lower(address));
  if (!a) return "not a numeric address";
  return classify(*a);
}

}  // namespace provisiond::webhooks
