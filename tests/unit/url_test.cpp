#include "network/url.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using isol8::errc;
using namespace isol8::detail;

TEST_CASE("parseUrl: scheme, host, port, target", "[url]") {
  const ParsedUrl u = parseUrl("HTTPS://Example.COM:8443/a/b.py?x=1#frag");
  CHECK(u.scheme == "https");
  CHECK(u.host == "example.com");
  CHECK(u.hostName == "example.com");
  CHECK_FALSE(u.ipLiteral);
  REQUIRE(u.port);
  CHECK(*u.port == 8443);
  CHECK(u.effectivePort() == 8443);
  CHECK(u.target == "/a/b.py?x=1");
  CHECK(u.hostHeader() == "example.com:8443");
  CHECK(u.href() == "https://example.com:8443/a/b.py?x=1");
}

TEST_CASE("parseUrl: default ports and empty path", "[url]") {
  const ParsedUrl a = parseUrl("http://h.example:80");
  CHECK_FALSE(a.port);
  CHECK(a.effectivePort() == 80);
  CHECK(a.target == "/");
  CHECK(a.hostHeader() == "h.example");
  const ParsedUrl b = parseUrl("https://h.example:443/x");
  CHECK_FALSE(b.port);
  CHECK(b.effectivePort() == 443);
  CHECK(parseUrl("https://h.example:/x").effectivePort() == 443);
  CHECK(parseUrl("http://h.example?q").target == "/?q");
}

TEST_CASE("parseUrl: credentials are split at the last @", "[url]") {
  const ParsedUrl u = parseUrl("http://allowed.example@evil.example/x");
  CHECK(u.host == "evil.example");
  CHECK(u.hasCredentials);
  const ParsedUrl v = parseUrl("http://a@b@c.example:81/");
  CHECK(v.host == "c.example");
  CHECK(*v.port == 81);
  CHECK_FALSE(parseUrl("http://c.example/").hasCredentials);
}

TEST_CASE("parseUrl: backslashes and extra slashes in http(s) URLs", "[url]") {
  CHECK(parseUrl("https:\\\\evil.example\\a\\b").host == "evil.example");
  CHECK(parseUrl("https:\\\\evil.example\\a\\b").target == "/a/b");
  CHECK(parseUrl("https:///evil.example/x").host == "evil.example");
  CHECK(parseUrl("https:evil.example/x").host == "evil.example");
}

TEST_CASE("parseUrl: IPv4 numbers in every form become dotted decimal", "[url]") {
  CHECK(parseUrl("http://127.0.0.1/").host == "127.0.0.1");
  CHECK(parseUrl("http://127.1/").host == "127.0.0.1");
  CHECK(parseUrl("http://2130706433/").host == "127.0.0.1");
  CHECK(parseUrl("http://0x7f.0.0.1/").host == "127.0.0.1");
  CHECK(parseUrl("http://0177.0.0.1/").host == "127.0.0.1");
  CHECK(parseUrl("http://0x7F000001/").host == "127.0.0.1");
  CHECK(parseUrl("http://169.254.169.254./").host == "169.254.169.254");
  CHECK(parseUrl("http://%31%32%37.0.0.1/").host == "127.0.0.1");
  CHECK(parseUrl("http://127.0.0.1/").ipLiteral);
  CHECK_FALSE(parseUrl("http://a127.0.0.1x/").ipLiteral);
  REQUIRE_ISOL8_ERROR(parseUrl("http://256.0.0.1/"), errc::invalid_request, "Invalid URL: http://256.0.0.1/");
  REQUIRE_ISOL8_ERROR(parseUrl("http://1.2.3.4.5/"), errc::invalid_request, "Invalid URL: http://1.2.3.4.5/");
  REQUIRE_ISOL8_ERROR(parseUrl("http://foo.09/"), errc::invalid_request, "Invalid URL: http://foo.09/");
}

TEST_CASE("parseUrl: IPv6 literals in canonical form", "[url]") {
  const ParsedUrl u = parseUrl("http://[0:0:0:0:0:0:0:1]:8080/x");
  CHECK(u.host == "[::1]");
  CHECK(u.hostName == "::1");
  CHECK(u.ipLiteral);
  CHECK(*u.port == 8080);
  CHECK(u.hostHeader() == "[::1]:8080");
  CHECK(parseUrl("http://[FE80::1]/").host == "[fe80::1]");
  CHECK(parseUrl("http://[::ffff:127.0.0.1]/").host == "[::ffff:7f00:1]");
  CHECK(parseUrl("http://[2001:db8:0:0:1:0:0:1]/").host == "[2001:db8::1:0:0:1]");
  CHECK(parseUrl("http://[1:0:0:2:0:0:0:3]/").host == "[1:0:0:2::3]");
  REQUIRE_ISOL8_ERROR(parseUrl("http://[::1/"), errc::invalid_request, "Invalid URL: http://[::1/");
  REQUIRE_ISOL8_ERROR(parseUrl("http://[fe80::1%25eth0]/"), errc::invalid_request,
                      "Invalid URL: http://[fe80::1%25eth0]/");
  REQUIRE_ISOL8_ERROR(parseUrl("http://[1:2:3:4:5:6:7:8:9]/"), errc::invalid_request,
                      "Invalid URL: http://[1:2:3:4:5:6:7:8:9]/");
}

TEST_CASE("parseUrl: paths are normalised and percent-encoded", "[url]") {
  CHECK(parseUrl("https://h.example/a/./b/../c.py").target == "/a/c.py");
  CHECK(parseUrl("https://h.example/a/%2e%2E/c.py").target == "/c.py");
  CHECK(parseUrl("https://h.example/../../x").target == "/x");
  CHECK(parseUrl("https://h.example/a/..").target == "/");
  CHECK(parseUrl("https://h.example/a/b/").target == "/a/b/");
  CHECK(parseUrl("https://h.example/a b/\"q\"?x y").target == "/a%20b/%22q%22?x%20y");
  CHECK(parseUrl("  https://h.example/a\tb\n ").target == "/ab");
}

TEST_CASE("parseUrl: what is not a URL", "[url]") {
  for (const char* text : {"", "not a url", "example.com/x.py", "://x", "http://", "http://exa mple.com/",
                           "http://h.example:99999/", "http://h.example:8x/", "http://ex<ample.com/",
                           "https://caf\xc3\xa9.example/"}) {
    INFO(text);
    REQUIRE_ISOL8_ERROR(parseUrl(text), errc::invalid_request, std::string("Invalid URL: ") + text);
  }
}

TEST_CASE("parseUrl: other schemes keep their scheme", "[url]") {
  CHECK(parseUrl("ftp://files.example/x.py").scheme == "ftp");
  CHECK(parseUrl("ftp://files.example/x.py").host == "files.example");
  CHECK(parseUrl("file:///etc/passwd").scheme == "file");
  CHECK(parseUrl("file:///etc/passwd").host.empty());
  CHECK(parseUrl("javascript:alert(1)").scheme == "javascript");
}

TEST_CASE("resolveUrl: redirect locations", "[url]") {
  const ParsedUrl base = parseUrl("https://h.example:8443/dir/sub/file.py?x=1");
  CHECK(resolveUrl(base, "http://other.example/y.py").href() == "http://other.example/y.py");
  CHECK(resolveUrl(base, "//other.example/y.py").href() == "https://other.example/y.py");
  CHECK(resolveUrl(base, "/root.py").href() == "https://h.example:8443/root.py");
  CHECK(resolveUrl(base, "next.py").href() == "https://h.example:8443/dir/sub/next.py");
  CHECK(resolveUrl(base, "../up.py?a").href() == "https://h.example:8443/dir/up.py?a");
  CHECK(resolveUrl(base, "?y=2").href() == "https://h.example:8443/dir/sub/file.py?y=2");
  CHECK(resolveUrl(base, "").href() == base.href());
  CHECK(resolveUrl(base, "\\\\evil.example\\z").href() == "https://evil.example/z");
  CHECK(resolveUrl(parseUrl("http://[::1]:81/a/b"), "c").href() == "http://[::1]:81/a/c");
  REQUIRE_ISOL8_ERROR(resolveUrl(base, "http://[zz]/"), errc::invalid_request, "Invalid URL: http://[zz]/");
}

TEST_CASE("urlFileName: last path segment", "[url]") {
  CHECK(urlFileName("https://raw.githubusercontent.com/o/r/main/src/app.py") == "app.py");
  CHECK(urlFileName("https://h.example/a/b.mjs?token=x#f") == "b.mjs");
  CHECK(urlFileName("https://h.example/dir/") == "");
  CHECK(urlFileName("https://h.example") == "");
  CHECK(urlFileName("https://h.example/my%20script.sh") == "my script.sh");
  CHECK(urlFileName("not a url") == "");
}

TEST_CASE("canonicalIpHost: one spelling per IP address", "[url]") {
  const std::vector<std::pair<std::string, std::string>> spellings{
      {"127.0.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},
      {"0x7f.0.0.1", "127.0.0.1"},
      {"0X7F.1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"[::ffff:127.0.0.1]", "127.0.0.1"},
      {"[::FFFF:7f00:1]", "127.0.0.1"},
      {"::ffff:a9fe:a9fe", "169.254.169.254"},
      {"[0:0:0:0:0:0:0:1]", "[::1]"},
      {"[FD00:EC2:0::254]", "[fd00:ec2::254]"},
      {"[2001:db8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"},
  };
  for (const auto& [host, canonical] : spellings) {
    INFO(host);
    CHECK(canonicalIpHost(host) == std::optional<std::string>(canonical));
  }
  // Not IP literals: names, out-of-range numbers, bad brackets.
  for (const char* host : {"example.com", "1.2.3.4.example.com", "256.1.1.1", "[127.0.0.1]", "[::1", ""}) {
    INFO(host);
    CHECK_FALSE(canonicalIpHost(host).has_value());
  }
}
