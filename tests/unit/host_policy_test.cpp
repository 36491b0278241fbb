#include "network/host_policy.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace isol8::detail;
using isol8::errc;
using Patterns = std::vector<std::string>;

TEST_CASE("normalizeHost: lower-case, one trailing dot removed", "[host_policy]") {
  CHECK(normalizeHost("Example.COM") == "example.com");
  CHECK(normalizeHost("example.com.") == "example.com");
  CHECK(normalizeHost("[::FFFF:7F00:1]") == "[::ffff:7f00:1]");
  CHECK(normalizeHost("") == "");
}

TEST_CASE("HostPolicy: empty lists allow every host", "[host_policy]") {
  const HostPolicy policy;
  CHECK(policy.allows("example.com"));
  CHECK(HostPolicy(Patterns{}, Patterns{}).allows("anything.at.all"));
}

TEST_CASE("HostPolicy: the deny list wins over the allow list", "[host_policy]") {
  const HostPolicy policy(Patterns{R"(\.example\.com$)"}, Patterns{R"(^secret\.example\.com$)"});
  CHECK(policy.check("api.example.com") == HostVerdict::allowed);
  CHECK(policy.check("secret.example.com") == HostVerdict::denied);
  CHECK(policy.check("example.org") == HostVerdict::not_allowed);
}

TEST_CASE("HostPolicy: case-insensitive, so upper case cannot bypass a deny rule", "[host_policy]") {
  const HostPolicy policy(Patterns{}, Patterns{"^localhost$", "^evil\\.com$"});
  CHECK(policy.check("localhost") == HostVerdict::denied);
  CHECK(policy.check("LOCALHOST") == HostVerdict::denied);
  CHECK(policy.check("LocalHost.") == HostVerdict::denied);  // trailing dot: same host
  CHECK(policy.check("EVIL.com") == HostVerdict::denied);
  CHECK(policy.check("notevil.com") == HostVerdict::allowed);
  // Upper-case patterns match lower-case hosts too.
  const HostPolicy upper(Patterns{"^PyPI\\.ORG$"}, Patterns{});
  CHECK(upper.allows("pypi.org"));
  CHECK(upper.allows("PYPI.org."));
}

TEST_CASE("HostPolicy: patterns are searched, unanchored unless anchored", "[host_policy]") {
  const HostPolicy policy(Patterns{"pypi"}, Patterns{});
  CHECK(policy.allows("pypi.org"));
  CHECK(policy.allows("files.pypi.evil.com"));  // unanchored: the user's choice
  CHECK_FALSE(policy.allows("npmjs.org"));
  const HostPolicy anchored(Patterns{R"(^(?:.*\.)?pypi\.org$)"}, Patterns{});
  CHECK(anchored.allows("pypi.org"));
  CHECK(anchored.allows("files.pypi.org"));
  CHECK_FALSE(anchored.allows("pypi.org.evil.com"));
  CHECK_FALSE(anchored.allows("notpypi.org"));
}

TEST_CASE("HostPolicy: ECMAScript syntax (\\d, non-capturing groups, lookahead)", "[host_policy]") {
  const HostPolicy policy(Patterns{R"(^api\d+\.example\.com$)", R"(^(?!internal)(?:[a-z]+)\.corp$)"}, Patterns{});
  CHECK(policy.allows("api42.example.com"));
  CHECK_FALSE(policy.allows("apix.example.com"));
  CHECK(policy.allows("public.corp"));
  CHECK_FALSE(policy.allows("internal.corp"));
}

TEST_CASE("HostPolicy: an invalid pattern is an error naming it and its list", "[host_policy]") {
  CHECK_THROWS_MATCHES(HostPolicy(Patterns{"ok", "(unclosed"}, Patterns{}), isol8::Error,
                       Catch::Matchers::Predicate<isol8::Error>([](const isol8::Error& e) {
                         return e.code() == isol8::make_error_code(errc::invalid_request) &&
                                std::string(e.what()).rfind("Invalid whitelist pattern \"(unclosed\": ", 0) == 0;
                       }));
  CHECK_THROWS_MATCHES(HostPolicy(isol8::NetworkFilter{{}, {"[z-a]"}, {}}), isol8::Error,
                       Catch::Matchers::Predicate<isol8::Error>([](const isol8::Error& e) {
                         return std::string(e.what()).rfind("Invalid blacklist pattern \"[z-a]\": ", 0) == 0;
                       }));
  CHECK_THROWS_MATCHES(HostPolicy(Patterns{"*"}, Patterns{}, "allowedHosts", "blockedHosts"), isol8::Error,
                       Catch::Matchers::Predicate<isol8::Error>([](const isol8::Error& e) {
                         return std::string(e.what()).rfind("Invalid allowedHosts pattern \"*\": ", 0) == 0;
                       }));
}

TEST_CASE("HostPolicy: over-long hosts are never allowed", "[host_policy]") {
  const HostPolicy policy;
  CHECK(policy.allows(std::string(253, 'a')));
  CHECK_FALSE(policy.allows(std::string(254, 'a')));
}

TEST_CASE("isValidHost", "[host_policy]") {
  CHECK(isValidHost("example.com"));
  CHECK(isValidHost("a-b_c.example"));
  CHECK(isValidHost("localhost"));
  CHECK(isValidHost("127.0.0.1"));
  CHECK(isValidHost("[::1]"));
  CHECK(isValidHost("[::ffff:127.0.0.1]"));
  CHECK(isValidHost("123.example.com"));
  CHECK(isValidHost("0xdeadbeef.example.com"));
  // Numeric forms resolvers would read as IPv4 addresses.
  CHECK_FALSE(isValidHost("2130706433"));
  CHECK_FALSE(isValidHost("0x7f.1"));
  CHECK_FALSE(isValidHost("0x7f000001"));
  CHECK_FALSE(isValidHost("127.1"));
  CHECK_FALSE(isValidHost("0177.0.0.1"));
  CHECK_FALSE(isValidHost("127.0.0.01"));
  CHECK_FALSE(isValidHost("1.2.3.4.5"));
  CHECK_FALSE(isValidHost("example.123"));
  // Syntax.
  CHECK_FALSE(isValidHost(""));
  CHECK_FALSE(isValidHost("Example.com"));  // not normalized
  CHECK_FALSE(isValidHost("a..b"));
  CHECK_FALSE(isValidHost(".a"));
  CHECK_FALSE(isValidHost("a b"));
  CHECK_FALSE(isValidHost("a%2eb"));
  CHECK_FALSE(isValidHost("user@host"));
  CHECK_FALSE(isValidHost("host:80"));
  CHECK_FALSE(isValidHost("::1"));           // IPv6 only in brackets
  CHECK_FALSE(isValidHost("[fe80::1%eth0]"));
  CHECK_FALSE(isValidHost("[127.0.0.1]"));
  CHECK_FALSE(isValidHost("[::1"));
  CHECK_FALSE(isValidHost(bytes("a\0b")));
  CHECK_FALSE(isValidHost(std::string(64, 'a') + ".com"));
  CHECK(isValidHost(std::string(63, 'a') + ".com"));
  CHECK_FALSE(isValidHost(std::string(254, 'a')));
}

TEST_CASE("HostPolicy: an IP literal cannot bypass a pattern by its spelling", "[host_policy]") {
  const HostPolicy deny(Patterns{}, Patterns{R"(^127\.0\.0\.1$)", R"(^\[::1\]$)"});
  for (const char* host : {"127.0.0.1", "[::ffff:127.0.0.1]", "[::FFFF:7F00:1]", "[0:0:0:0:0:ffff:7f00:1]", "2130706433",
                           "0x7f.0.0.1", "127.1", "0177.0.0.1", "0x7f000001", "127.0.0.1.", "[0:0:0:0:0:0:0:1]", "[::0:1]"}) {
    INFO(host);
    CHECK(deny.check(host) == HostVerdict::denied);
  }
  CHECK(deny.check("127.0.0.2") == HostVerdict::allowed);
  CHECK(deny.check("[::ffff:127.0.0.2]") == HostVerdict::allowed);
  // The written form still counts: a pattern for the mapped spelling keeps matching it.
  const HostPolicy mapped(Patterns{}, Patterns{R"(^\[::ffff:127\.0\.0\.1\]$)"});
  CHECK(mapped.check("[::ffff:127.0.0.1]") == HostVerdict::denied);
  // Allow needs a match in either form.
  const HostPolicy allow(Patterns{R"(^10\.1\.2\.3$)"}, Patterns{});
  CHECK(allow.allows("[::ffff:10.1.2.3]"));
  CHECK(allow.allows("167838211"));
  CHECK_FALSE(allow.allows("[::ffff:10.1.2.4]"));
  // Names are not IP literals, even when they contain digits.
  const HostPolicy names(Patterns{}, Patterns{R"(^1\.2\.3\.4$)"});
  CHECK(names.allows("1.2.3.4.example.com"));
}
