#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "webhooks/address_guard.hpp"

using provisiond::errc;
using provisiond::webhooks::address_guard;
using provisiond::webhooks::guard_options;
using provisiond::webhooks::non_public_class;

namespace {

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// The static map stands in for DNS: this machine has none.
guard_options test_hosts() {
  guard_options o;
  o.hosts = {
      {"hooks.example.com", {"93.184.216.34"}},
      {"dual.example.com", {"93.184.216.34", "2606:4700::1111"}},
      {"evil.example.com", {"10.0.0.7"}},
      {"mixed.example.com", {"93.184.216.34", "127.0.0.1"}},
      {"mixed6.example.com", {"2606:4700::1111", "fd00::1"}},
      {"metadata.example.com", {"169.254.169.254"}},
  };
  return o;
}

address_guard guard(guard_options o = test_hosts()) {
  auto g = address_guard::make(std::move(o));
  EXPECT_TRUE(g.has_value()) << g.error().message;
  return std::move(g).value();
}

struct hostile {
  const char* url;
  const char* address;  // as the message names it
  const char* phrase;   // the class, as the message says it
};

}  // namespace

TEST(AddressGuard, RefusesEveryNonPublicDestinationNamingAddressAndClass) {
  const hostile cases[] = {
      {"http://127.0.0.1/", "127.0.0.1", "a loopback address"},
      {"HTTP://127.0.0.1:8080/hook", "127.0.0.1", "a loopback address"},
      {"http://localhost/", "127.0.0.1", "a loopback address"},
      {"http://LOCALHOST/", "127.0.0.1", "a loopback address"},
      {"http://localhost./", "127.0.0.1", "a loopback address"},
      {"http://api.localhost/", "127.0.0.1", "a loopback address"},
      {"http://2130706433/", "127.0.0.1", "a loopback address"},
      {"http://0177.0.0.1/", "127.0.0.1", "a loopback address"},
      {"http://0x7f000001/", "127.0.0.1", "a loopback address"},
      {"http://0x7f.1/", "127.0.0.1", "a loopback address"},
      {"http://0X7F.0.0.1/", "127.0.0.1", "a loopback address"},
      {"http://127.1/", "127.0.0.1", "a loopback address"},
      {"http://127.0.0.1./", "127.0.0.1", "a loopback address"},
      {"http://[::1]/", "::1", "a loopback address"},
      {"http://[::1]:9000/", "::1", "a loopback address"},
      {"http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "a loopback address (IPv4-mapped 127.0.0.1)"},
      {"http://[::ffff:7f00:1]/", "::ffff:127.0.0.1", "a loopback address (IPv4-mapped"},
      {"http://[0:0:0:0:0:ffff:127.0.0.1]/", "::ffff:127.0.0.1", "a loopback address"},
      {"http://[::127.0.0.1]/", "::127.0.0.1", "a loopback address (IPv4-compatible 127.0.0.1)"},
      {"http://[2002:7f00:1::]/", "2002:7f00:1::", "a loopback address (6to4 127.0.0.1)"},
      {"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "2001:0:4136:e378:8000:63bf:80ff:fffe",
       "a loopback address (Teredo 127.0.0.1)"},
      {"http://0.0.0.0/", "0.0.0.0", "an unspecified address"},
      {"http://0/", "0.0.0.0", "an unspecified address"},
      {"http://[::]/", "::", "an unspecified address"},
      {"http://[::ffff:0.0.0.0]/", "::ffff:0.0.0.0", "an unspecified address (IPv4-mapped"},
      {"http://0.1.2.3/", "0.1.2.3", "a this-network address (0.0.0.0/8)"},
      {"http://10.0.0.5/", "10.0.0.5", "a private address (RFC 1918)"},
      {"https://10.0.0.5:8443/x", "10.0.0.5", "a private address (RFC 1918)"},
      {"http://012.0.0.1/", "10.0.0.1", "a private address (RFC 1918)"},
      {"http://0x0a.0.0.1/", "10.0.0.1", "a private address (RFC 1918)"},
      {"http://167772161/", "10.0.0.1", "a private address (RFC 1918)"},
      {"http://172.16.0.1/", "172.16.0.1", "a private address (RFC 1918)"},
      {"http://172.31.255.255/", "172.31.255.255", "a private address (RFC 1918)"},
      {"http://192.168.1.1/", "192.168.1.1", "a private address (RFC 1918)"},
      {"http://[::ffff:10.0.0.5]:8080/", "::ffff:10.0.0.5", "a private address (RFC 1918, IPv4-mapped 10.0.0.5)"},
      {"http://[64:ff9b::a00:1]/", "64:ff9b::a00:1", "a private address (RFC 1918, NAT64 10.0.0.1)"},
      {"http://[2002:c0a8:101::1]/", "2002:c0a8:101::1", "a private address (RFC 1918, 6to4 192.168.1.1)"},
      {"http://100.64.0.1/", "100.64.0.1", "a shared address (CGNAT"},
      {"http://100.127.255.254/", "100.127.255.254", "a shared address (CGNAT"},
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254", "a link-local address"},
      {"http://169.254.169.254./", "169.254.169.254", "a link-local address"},
      {"http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254", "a link-local address"},
      {"http://169.254.1.1/", "169.254.1.1", "a link-local address"},
      {"http://[fe80::1]/", "fe80::1", "a link-local address"},
      {"http://[FEBF::1]/", "febf::1", "a link-local address"},
      {"http://192.0.0.8/", "192.0.0.8", "an IETF protocol address"},
      {"http://192.0.2.1/", "192.0.2.1", "a documentation address"},
      {"http://198.51.100.7/", "198.51.100.7", "a documentation address"},
      {"http://203.0.113.9/", "203.0.113.9", "a documentation address"},
      {"http://[2001:db8::1]/", "2001:db8::1", "a documentation address"},
      {"http://[3fff::1]/", "3fff::1", "a documentation address"},
      {"http://198.18.0.1/", "198.18.0.1", "a benchmarking address"},
      {"http://198.19.255.255/", "198.19.255.255", "a benchmarking address"},
      {"http://224.0.0.1/", "224.0.0.1", "a multicast address"},
      {"http://239.255.255.250/", "239.255.255.250", "a multicast address"},
      {"http://[ff02::1]/", "ff02::1", "a multicast address"},
      {"http://240.0.0.1/", "240.0.0.1", "a reserved address"},
      {"http://255.255.255.255/", "255.255.255.255", "a broadcast address"},
      {"http://[fc00::1]/", "fc00::1", "a unique local address (ULA)"},
      {"http://[fd12:3456::1]/", "fd12:3456::1", "a unique local address (ULA)"},
      {"http://[fec0::1]/", "fec0::1", "a site-local address"},
      {"http://[100::1]/", "100::1", "a discard address"},
      {"http://[4000::1]/", "4000::1", "a reserved address (outside 2000::/3)"},
      {"http://evil.example.com/hook", "10.0.0.7", "a private address (RFC 1918)"},
      {"http://EVIL.example.com./hook", "10.0.0.7", "a private address (RFC 1918)"},
      {"http://mixed.example.com/", "127.0.0.1", "a loopback address"},
      {"http://mixed6.example.com/", "fd00::1", "a unique local address (ULA)"},
      {"https://metadata.example.com/", "169.254.169.254", "a link-local address (cloud metadata)"},
  };
  static_assert(std::size(cases) >= 30);
  auto g = guard();
  for (const auto& c : cases) {
    auto d = g.check(c.url);
    ASSERT_FALSE(d.has_value()) << c.url << " passed, connecting to " << d->address;
    EXPECT_EQ(d.error().code, errc::invalid_argument) << c.url;
    EXPECT_EQ(d.error().field, "url") << c.url;
    EXPECT_TRUE(contains(d.error().message, std::string("resolves to ") + c.address + ", ")) << c.url;
    EXPECT_TRUE(contains(d.error().message, c.phrase)) << c.url;
  }
  EXPECT_EQ(g.check("http://10.0.0.5/").error().message, "resolves to 10.0.0.5, a private address (RFC 1918)");
  EXPECT_EQ(g.check("http://127.0.0.1/").error().message, "resolves to 127.0.0.1, a loopback address");
}

TEST(AddressGuard, RefusesUrlsThatAreNotPlainHttpToAHost) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://93.184.216.34/", "expected an http or https URL"},
      {"file:///etc/passwd", "expected an http or https URL"},
      {"gopher://93.184.216.34:70/", "expected an http or https URL"},
      {"javascript:alert(1)", "expected an http or https URL"},
      {"//93.184.216.34/", "expected an http or https URL"},
      {"http:/93.184.216.34/", "expected an http or https URL"},
      {"", "expected an http or https URL"},
      {"http://user:pw@93.184.216.34/", "must not contain user information"},
      {"http://user@93.184.216.34/", "must not contain user information"},
      {"http://93.184.216.34@127.0.0.1/", "must not contain user information"},
      {"http://93.184.216.34\\@127.0.0.1/", "must not contain user information"},
      {"http://@93.184.216.34/", "must not contain user information"},
      {"http:///x", "must name a host"},
      {"http://", "must name a host"},
      {"http://:80/", "must name a host"},
      {"http://93.184.216.34:0/", "port must be a number from 1 to 65535"},
      {"http://93.184.216.34:70000/", "port must be a number from 1 to 65535"},
      {"http://93.184.216.34:65536/", "port must be a number from 1 to 65535"},
      {"http://93.184.216.34:99999999999999999999999/", "port must be a number from 1 to 65535"},
      {"http://93.184.216.34:-1/", "port must be a number from 1 to 65535"},
      {"http://93.184.216.34:80a/", "port must be a number from 1 to 65535"},
      {"http://[2606:4700::1111]:0/", "port must be a number from 1 to 65535"},
      {"http://[fe80::1%25eth0]/", "must not contain an IPv6 zone id"},
      {"http://[fe80::1%eth0]:80/", "must not contain an IPv6 zone id"},
      {"http://[::1/", "malformed IPv6 address"},
      {"http://[127.0.0.1]/", "malformed IPv6 address"},
      {"http://[::1]x/", "malformed IPv6 address"},
      {"http://[hooks.example.com]/", "malformed IPv6 address"},
      {"http://::1/", "IPv6 address in brackets"},
      {"http://2606:4700::1111/", "IPv6 address in brackets"},
      {"http://%31%32%37.0.0.1/", "must not percent-encode the host"},
      {"http://a..b/", "invalid host name"},
      {"http://.hooks.example.com/", "invalid host name"},
      {"http://hooks.example.com../", "invalid host name"},
      {"http://hooks.example.com\\.93.184.216.34/", "invalid host name"},
      {"http://hooks.example.com;.93.184.216.34/", "invalid host name"},
      {"http://exa mple.com/", "must not contain spaces"},
      {"http://93.184.216.34/\r\nHost: evil", "must not contain spaces"},
      {"http://93.184.216.34/\tx", "must not contain spaces"},
      {"http://\xc3\xabxample.com/", "non-ASCII"},
  };
  auto g = guard();
  for (const auto& [url, why] : cases) {
    auto d = g.check(url);
    ASSERT_FALSE(d.has_value()) << url << " passed";
    EXPECT_EQ(d.error().code, errc::invalid_argument) << url;
    EXPECT_EQ(d.error().field, "url") << url;
    EXPECT_TRUE(contains(d.error().message, why)) << url;
  }
  auto huge = g.check("http://93.184.216.34/" + std::string(5000, 'a'));
  ASSERT_FALSE(huge.has_value());
  EXPECT_TRUE(contains(huge.error().message, "longer than 4096"));
}

TEST(AddressGuard, AnUnresolvableNameIsRefused) {
  auto d = guard().check("http://nonexistent.invalid/hook");  // RFC 6761: never resolves
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().field, "url");
  if (d.error().code == errc::invalid_argument) EXPECT_EQ(d.error().message, "host does not resolve");
  else EXPECT_EQ(d.error().code, errc::retryable) << "only a lookup that failed for now may be retried";
}

TEST(AddressGuard, PublicAddressesPassWithTheAddressToConnectTo) {
  auto g = guard();
  auto v4 = g.check("http://93.184.216.34/hook");
  ASSERT_TRUE(v4.has_value()) << v4.error().message;
  EXPECT_EQ(v4->url, "http://93.184.216.34/hook");
  EXPECT_FALSE(v4->tls);
  EXPECT_EQ(v4->host, "93.184.216.34");
  EXPECT_EQ(v4->port, "80");
  EXPECT_EQ(v4->target, "/hook");
  EXPECT_EQ(v4->address, "93.184.216.34");
  EXPECT_EQ(v4->addresses, std::vector<std::string>{"93.184.216.34"});

  auto v6 = g.check("https://[2606:4700::1111]/x");
  ASSERT_TRUE(v6.has_value()) << v6.error().message;
  EXPECT_TRUE(v6->tls);
  EXPECT_EQ(v6->host, "2606:4700::1111") << "brackets removed";
  EXPECT_EQ(v6->port, "443");
  EXPECT_EQ(v6->target, "/x");
  EXPECT_EQ(v6->address, "2606:4700::1111");

  auto full = g.check("HTTPS://93.184.216.34:8443/a/b?c=d&e=f#fragment");
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_TRUE(full->tls);
  EXPECT_EQ(full->port, "8443");
  EXPECT_EQ(full->target, "/a/b?c=d&e=f") << "the fragment is not sent";

  auto bare = g.check("http://93.184.216.34");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->target, "/");
  auto query = g.check("http://93.184.216.34?x=1");
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->target, "/?x=1");
  auto padded = g.check("http://93.184.216.34:00080/");
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ(padded->port, "80");
  auto empty_port = g.check("https://93.184.216.34:/");
  ASSERT_TRUE(empty_port.has_value());
  EXPECT_EQ(empty_port->port, "443");
  auto max_port = g.check("http://93.184.216.34:65535/");
  ASSERT_TRUE(max_port.has_value());
  EXPECT_EQ(max_port->port, "65535");

  auto mapped = g.check("http://[::ffff:93.184.216.34]/");
  ASSERT_TRUE(mapped.has_value()) << mapped.error().message;
  EXPECT_EQ(mapped->address, "93.184.216.34") << "an IPv4-mapped address is connected to as IPv4";
  auto nat64 = g.check("http://[64:ff9b::5db8:d822]/");
  ASSERT_TRUE(nat64.has_value()) << nat64.error().message;
  EXPECT_EQ(nat64->address, "64:ff9b::5db8:d822");
  auto decimal = g.check("http://1572395042/");  // 93.184.216.34
  ASSERT_TRUE(decimal.has_value()) << decimal.error().message;
  EXPECT_EQ(decimal->address, "93.184.216.34");
  EXPECT_EQ(decimal->host, "1572395042");
}

TEST(AddressGuard, NamesResolveThroughTheStaticHostsBeforeDns) {
  auto g = guard();
  auto d = g.check("https://hooks.example.com/tenant/42");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->host, "hooks.example.com");
  EXPECT_EQ(d->address, "93.184.216.34");
  EXPECT_EQ(d->target, "/tenant/42");

  auto upper = g.check("https://HOOKS.Example.COM./x");
  ASSERT_TRUE(upper.has_value()) << upper.error().message;
  EXPECT_EQ(upper->host, "HOOKS.Example.COM.") << "the host as written";
  EXPECT_EQ(upper->address, "93.184.216.34");

  auto dual = g.check("http://dual.example.com/");
  ASSERT_TRUE(dual.has_value()) << dual.error().message;
  EXPECT_EQ(dual->address, "93.184.216.34");
  EXPECT_EQ(dual->addresses, (std::vector<std::string>{"93.184.216.34", "2606:4700::1111"}));

  auto evil = g.check("http://evil.example.com/");
  ASSERT_FALSE(evil.has_value());
  EXPECT_EQ(evil.error().message, "resolves to 10.0.0.7, a private address (RFC 1918)");
  auto mixed = g.check("http://mixed.example.com/");
  ASSERT_FALSE(mixed.has_value()) << "one private answer among public ones is refused";
  EXPECT_EQ(mixed.error().message, "resolves to 127.0.0.1, a loopback address");
}

TEST(AddressGuard, TheAllowListLetsOperatorChosenDestinationsThrough) {
  auto o = test_hosts();
  o.allow = {"127.0.0.0/8", "HOOKS.internal", "10.1.2.3", "fd00:1::/32"};
  o.hosts["hooks.internal"] = {"10.9.8.7", "fd00:ffff::1"};
  o.hosts["other.internal"] = {"10.9.8.6"};
  auto g = guard(o);

  auto local = g.check("http://127.0.0.1:8080/");
  ASSERT_TRUE(local.has_value()) << local.error().message;
  EXPECT_EQ(local->address, "127.0.0.1");
  EXPECT_EQ(local->port, "8080");
  EXPECT_TRUE(g.check("http://127.1.2.3/").has_value());
  EXPECT_TRUE(g.check("http://0x7f.1/").has_value());
  auto mapped = g.check("http://[::ffff:127.0.0.1]/");
  ASSERT_TRUE(mapped.has_value()) << "an IPv4-mapped address matches an IPv4 CIDR";
  EXPECT_EQ(mapped->address, "127.0.0.1");
  auto localhost = g.check("http://localhost/");
  ASSERT_FALSE(localhost.has_value()) << "localhost is ::1 too, outside 127.0.0.0/8";
  EXPECT_EQ(localhost.error().message, "resolves to ::1, a loopback address");

  auto named = g.check("https://hooks.INTERNAL./x");
  ASSERT_TRUE(named.has_value()) << named.error().message;
  EXPECT_EQ(named->address, "10.9.8.7");
  EXPECT_EQ(named->addresses, (std::vector<std::string>{"10.9.8.7", "fd00:ffff::1"}));
  EXPECT_FALSE(g.check("http://other.internal/").has_value()) << "names are allowed exactly";
  EXPECT_FALSE(g.check("http://sub.hooks.internal/").has_value());

  EXPECT_TRUE(g.check("http://10.1.2.3/").has_value());
  auto neighbour = g.check("http://10.1.2.4/");
  ASSERT_FALSE(neighbour.has_value());
  EXPECT_TRUE(contains(neighbour.error().message, "a private address"));
  EXPECT_TRUE(g.check("http://[fd00:1:abcd::5]/").has_value());
  EXPECT_FALSE(g.check("http://[fd00:2::5]/").has_value());
  EXPECT_FALSE(g.check("http://169.254.169.254/").has_value());

  auto loop6 = guard_options{};
  loop6.allow = {"::1/128"};
  EXPECT_TRUE(guard(loop6).check("http://[::1]:9000/").has_value());
  EXPECT_FALSE(guard(loop6).check("http://localhost/").has_value()) << "127.0.0.1 is not allowed";
}

TEST(AddressGuard, MakeRefusesABadAllowListOrStaticHost) {
  auto allow_error = [](std::vector<std::string> allow) {
    guard_options o;
    o.allow = std::move(allow);
    auto g = address_guard::make(std::move(o));
    EXPECT_FALSE(g.has_value());
    return g.has_value() ? provisiond::error{} : g.error();
  };
  auto e = allow_error({"10.0.0.0/8", "10.0.0.0/33"});
  EXPECT_EQ(e.code, errc::invalid_argument);
  EXPECT_EQ(e.field, "webhooks.allow[1]");
  EXPECT_TRUE(contains(e.message, "10.0.0.0/33"));
  EXPECT_EQ(allow_error({"fd00::/129"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"10.0.0.0/"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"10.0.0.0/-1"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"10.0.0.0/8/8"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"hooks.internal/8"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"::1", "10.1.2"}).field, "webhooks.allow[1]");
  EXPECT_EQ(allow_error({"0x7f.1"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"1::2::3"}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({""}).field, "webhooks.allow[0]");
  EXPECT_EQ(allow_error({"bad name!"}).field, "webhooks.allow[0]");
  auto bits = allow_error({"10.1.2.3/8"});
  EXPECT_TRUE(contains(bits.message, "did you mean 10.0.0.0/8?"));

  auto host_error = [](std::map<std::string, std::vector<std::string>> hosts) {
    guard_options o;
    o.hosts = std::move(hosts);
    auto g = address_guard::make(std::move(o));
    EXPECT_FALSE(g.has_value());
    return g.has_value() ? provisiond::error{} : g.error();
  };
  auto h = host_error({{"hooks.example.com", {"93.184.216.34", "not-an-address"}}});
  EXPECT_EQ(h.code, errc::invalid_argument);
  EXPECT_EQ(h.field, "webhooks.hosts.hooks.example.com");
  EXPECT_TRUE(contains(h.message, "not-an-address"));
  EXPECT_EQ(host_error({{"x.example", {"127.1"}}}).field, "webhooks.hosts.x.example") << "strict numeric only";
  EXPECT_EQ(host_error({{"x.example", {}}}).field, "webhooks.hosts.x.example");
  EXPECT_EQ(host_error({{"127.0.0.1", {"93.184.216.34"}}}).field, "webhooks.hosts.127.0.0.1");
  EXPECT_EQ(host_error({{"bad name", {"93.184.216.34"}}}).field, "webhooks.hosts.bad name");
  EXPECT_FALSE(address_guard::make(guard_options{{}, {{"A.example", {"1.1.1.1"}}, {"a.example", {"1.1.1.1"}}}}).has_value());

  guard_options fine;
  fine.allow = {"0.0.0.0/0", "::/0", "10.0.0.0/8", "hooks.internal", "fd00::/8", "192.168.1.1", "::1"};
  fine.hosts = {{"Hooks.Example.com.", {"2606:4700:0:0::1111", "93.184.216.34"}}};
  EXPECT_TRUE(address_guard::make(fine).has_value());
}

TEST(NonPublicClass, ClassifiesIpv4) {
  for (const char* a : {"93.184.216.34", "8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "172.15.255.255",
                        "172.32.0.0", "192.167.255.255", "192.169.0.0", "100.63.255.255", "100.128.0.0",
                        "169.253.255.255", "169.255.0.0", "192.0.1.0", "192.0.3.0", "198.17.255.255",
                        "198.20.0.0", "223.255.255.255", "1.0.0.0", "126.255.255.255", "128.0.0.0"})
    EXPECT_EQ(non_public_class(a), "") << a;
  EXPECT_EQ(non_public_class("0.0.0.0"), "unspecified");
  EXPECT_EQ(non_public_class("0.255.255.255"), "this-network (0.0.0.0/8)");
  EXPECT_EQ(non_public_class("127.0.0.1"), "loopback");
  EXPECT_EQ(non_public_class("127.255.255.255"), "loopback");
  EXPECT_EQ(non_public_class("10.0.0.0"), "private (RFC 1918)");
  EXPECT_EQ(non_public_class("10.255.255.255"), "private (RFC 1918)");
  EXPECT_EQ(non_public_class("172.16.0.0"), "private (RFC 1918)");
  EXPECT_EQ(non_public_class("172.31.255.255"), "private (RFC 1918)");
  EXPECT_EQ(non_public_class("192.168.0.0"), "private (RFC 1918)");
  EXPECT_EQ(non_public_class("100.64.0.0"), "shared (CGNAT, RFC 6598)");
  EXPECT_EQ(non_public_class("100.127.255.255"), "shared (CGNAT, RFC 6598)");
  EXPECT_EQ(non_public_class("169.254.0.1"), "link-local");
  EXPECT_EQ(non_public_class("169.254.169.254"), "link-local (cloud metadata)");
  EXPECT_EQ(non_public_class("192.0.0.0"), "IETF protocol (192.0.0.0/24)");
  EXPECT_EQ(non_public_class("192.0.2.255"), "documentation");
  EXPECT_EQ(non_public_class("198.51.100.0"), "documentation");
  EXPECT_EQ(non_public_class("203.0.113.255"), "documentation");
  EXPECT_EQ(non_public_class("198.18.0.0"), "benchmarking (198.18.0.0/15)");
  EXPECT_EQ(non_public_class("198.19.255.255"), "benchmarking (198.18.0.0/15)");
  EXPECT_EQ(non_public_class("224.0.0.0"), "multicast");
  EXPECT_EQ(non_public_class("239.255.255.255"), "multicast");
  EXPECT_EQ(non_public_class("240.0.0.0"), "reserved (240.0.0.0/4)");
  EXPECT_EQ(non_public_class("255.255.255.254"), "reserved (240.0.0.0/4)");
  EXPECT_EQ(non_public_class("255.255.255.255"), "broadcast");
}

TEST(NonPublicClass, ClassifiesIpv6AndEmbeddedIpv4) {
  for (const char* a : {"2606:4700::1111", "2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:808:808::1", "2001:db9::1", "3ffe::1", "3fff:1000::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"})
    EXPECT_EQ(non_public_class(a), "") << a;
  EXPECT_EQ(non_public_class("::"), "unspecified");
  EXPECT_EQ(non_public_class("::1"), "loopback");
  EXPECT_EQ(non_public_class("::ffff:127.0.0.1"), "loopback (IPv4-mapped 127.0.0.1)");
  EXPECT_EQ(non_public_class("::FFFF:7F00:1"), "loopback (IPv4-mapped 127.0.0.1)");
  EXPECT_EQ(non_public_class("::ffff:10.1.1.1"), "private (RFC 1918, IPv4-mapped 10.1.1.1)");
  EXPECT_EQ(non_public_class("::10.1.1.1"), "private (RFC 1918, IPv4-compatible 10.1.1.1)");
  EXPECT_EQ(non_public_class("::2"), "this-network (0.0.0.0/8, IPv4-compatible 0.0.0.2)");
  EXPECT_EQ(non_public_class("64:ff9b::169.254.169.254"), "link-local (cloud metadata, NAT64 169.254.169.254)");
  EXPECT_EQ(non_public_class("2002:c0a8:101::"), "private (RFC 1918, 6to4 192.168.1.1)");
  EXPECT_EQ(non_public_class("2002:a9fe:a9fe::1"), "link-local (cloud metadata, 6to4 169.254.169.254)");
  EXPECT_EQ(non_public_class("fe80::1"), "link-local");
  EXPECT_EQ(non_public_class("febf:ffff::1"), "link-local");
  EXPECT_EQ(non_public_class("fec0::1"), "site-local");
  EXPECT_EQ(non_public_class("feff::1"), "site-local");
  EXPECT_EQ(non_public_class("fc00::"), "unique local (ULA)");
  EXPECT_EQ(non_public_class("fdff:ffff::1"), "unique local (ULA)");
  EXPECT_EQ(non_public_class("ff00::"), "multicast");
  EXPECT_EQ(non_public_class("ff02::1"), "multicast");
  EXPECT_EQ(non_public_class("2001:db8::"), "documentation");
  EXPECT_EQ(non_public_class("2001:db8:ffff::1"), "documentation");
  EXPECT_EQ(non_public_class("3fff:fff::1"), "documentation");
  EXPECT_EQ(non_public_class("100::"), "discard (100::/64)");
  EXPECT_EQ(non_public_class("100::ffff:ffff:ffff:ffff"), "discard (100::/64)");
  EXPECT_EQ(non_public_class("100:0:0:1::"), "reserved (outside 2000::/3)");
  EXPECT_EQ(non_public_class("4000::1"), "reserved (outside 2000::/3)");
  EXPECT_EQ(non_public_class("64:ff9b:1::1"), "reserved (outside 2000::/3)");
}

TEST(NonPublicClass, TextThatIsNotANumericAddressIsNeverPublic) {
  for (const char* a : {"", "example.com", "127.1", "0x7f000001", "2130706433", "[::1]", "fe80::1%eth0", "1.2.3.4 "})
    EXPECT_EQ(non_public_class(a), "not a numeric address") << a;
}
