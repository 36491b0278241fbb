#include "network/remote_code_rules.hpp"

#include <catch2/catch.hpp>

#include "engine/request_validation.hpp"
#include "isol8/config.hpp"
#include "test_support.hpp"
#include "util/text.hpp"

using isol8::errc;
using isol8::RemoteCodePolicy;
using namespace isol8::detail;

namespace {
RemoteCodePolicy enabledPolicy() {
  RemoteCodePolicy p;
  p.enabled = true;
  return p;
}
IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) { return IpAddress::ipv4(a, b, c, d); }
IpAddress v6(std::string_view text) { return *parseIpv6(text); }
const char* kInsecure = "Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.";
}  // namespace

TEST_CASE("remote code: disabled, then missing URL", "[remote-code]") {
  RemoteCodePolicy p;
  REQUIRE_ISOL8_ERROR(checkRemoteCodeEnabled(p, "https://example.com/a.py"), errc::invalid_request,
                      "Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.");
  REQUIRE_ISOL8_ERROR(checkRemoteCodeEnabled(p, ""), errc::invalid_request,
                      "Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.");
  p.enabled = true;
  CHECK_NOTHROW(checkRemoteCodeEnabled(p, "https://example.com/a.py"));
  REQUIRE_ISOL8_ERROR(checkRemoteCodeEnabled(p, "  "), errc::invalid_request,
                      "codeUrl is required for remote code fetching");
}

TEST_CASE("remote code: URL, insecure http, scheme, in that order", "[remote-code]") {
  RemoteCodePolicy p = enabledPolicy();
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "nope", false), errc::invalid_request, "Invalid URL: nope");
  // http without the request's opt-in, whatever the policy says.
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "http://example.com/a.py", false), errc::invalid_request, kInsecure);
  // the opt-in alone is not enough: the policy must list http too.
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "http://example.com/a.py", true), errc::invalid_request,
                      "URL scheme not allowed: http");
  p.allowedSchemes = {"HTTPS", "Http"};
  CHECK(checkCodeUrl(p, "http://example.com/a.py", true).host == "example.com");
  CHECK(checkCodeUrl(p, "HTTPS://Example.com/a.py", false).scheme == "https");
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "ftp://example.com/a.py", false), errc::invalid_request,
                      "URL scheme not allowed: ftp");
  p.allowedSchemes = {};
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "https://example.com/a.py", false), errc::invalid_request,
                      "URL scheme not allowed: https");
}

TEST_CASE("remote code: default blocked hosts", "[remote-code]") {
  const RemoteCodePolicy p = enabledPolicy();
  for (const char* url : {"https://localhost/a.py", "https://LOCALHOST./a.py", "https://127.0.0.1/a.py",
                          "https://127.1/a.py", "https://2130706433/a.py", "https://[::1]/a.py", "https://10.1.2.3/x",
                          "https://172.16.0.1/x", "https://172.31.255.255/x", "https://192.168.1.1/x",
                          "https://169.254.169.254/latest/meta-data", "https://metadata.google.internal/x"}) {
    INFO(url);
    const std::string host = parseUrl(url).host;
    REQUIRE_ISOL8_ERROR(checkCodeUrl(p, url, false), errc::invalid_request, "Blocked code URL host: " + host);
  }
  CHECK_NOTHROW(checkCodeUrl(p, "https://172.32.0.1/x", false));
  CHECK_NOTHROW(checkCodeUrl(p, "https://raw.githubusercontent.com/o/r/main/a.py", false));
}

TEST_CASE("remote code: allowed and blocked host patterns, case-insensitive", "[remote-code]") {
  RemoteCodePolicy p = enabledPolicy();
  p.allowedHosts = {R"(^raw\.githubusercontent\.com$)", R"(\.example\.org$)"};
  CHECK_NOTHROW(checkCodeUrl(p, "https://RAW.githubusercontent.com/a.py", false));
  CHECK_NOTHROW(checkCodeUrl(p, "https://code.example.org/a.py", false));
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "https://evil.example.com/a.py", false), errc::invalid_request,
                      "Blocked code URL host: evil.example.com");
  p.blockedHosts = {"^CODE\\."};
  REQUIRE_ISOL8_ERROR(checkCodeUrl(p, "https://code.example.org/a.py", false), errc::invalid_request,
                      "Blocked code URL host: code.example.org");
  // A redirect target goes through the same check.
  REQUIRE_ISOL8_ERROR(checkCodeUrlSchemeAndHost(p, parseUrl("https://other.example.net/x"), false),
                      errc::invalid_request, "Blocked code URL host: other.example.net");
  REQUIRE_ISOL8_ERROR(checkCodeUrlSchemeAndHost(p, parseUrl("http://raw.githubusercontent.com/x"), false),
                      errc::invalid_request, kInsecure);
}

TEST_CASE("remote code: resolved addresses", "[remote-code]") {
  RemoteCodePolicy p = enabledPolicy();
  const ParsedUrl url = parseUrl("https://code.example/a.py");
  CHECK_NOTHROW(checkCodeUrlAddresses(p, url, {v4(93, 184, 216, 34)}));
  CHECK_NOTHROW(checkCodeUrlAddresses(p, url, {v6("2606:2800:220:1:248:1893:25c8:1946")}));
  REQUIRE_ISOL8_ERROR(checkCodeUrlAddresses(p, url, {}), errc::io_error,
                      "Failed to resolve code URL host: code.example");
  const std::vector<IpAddress> refused{v4(127, 0, 0, 1),   v4(10, 0, 0, 1),    v4(172, 16, 5, 4),
                                       v4(192, 168, 0, 1), v4(169, 254, 1, 1), v4(100, 64, 0, 1),
                                       v4(0, 0, 0, 0),     v6("::1"),          v6("fd00::1"),
                                       v6("fe80::1"),      v6("::ffff:127.0.0.1")};
  for (const auto& address : refused) {
    INFO(address.toString());
    REQUIRE_ISOL8_ERROR(checkCodeUrlAddresses(p, url, {address}), errc::invalid_request,
                        "Blocked code URL host: code.example");
    // One bad record among good ones is enough.
    REQUIRE_ISOL8_ERROR(checkCodeUrlAddresses(p, url, {v4(93, 184, 216, 34), address}), errc::invalid_request,
                        "Blocked code URL host: code.example");
  }
  p.allowedAddresses = {"127.0.0.1/32", "fd00::/8"};
  CHECK_NOTHROW(checkCodeUrlAddresses(p, url, {v4(127, 0, 0, 1)}));
  CHECK_NOTHROW(checkCodeUrlAddresses(p, url, {v6("fd00::1")}));
  REQUIRE_ISOL8_ERROR(checkCodeUrlAddresses(p, url, {v4(127, 0, 0, 2)}), errc::invalid_request,
                      "Blocked code URL host: code.example");
}

TEST_CASE("remote code: requireHash", "[remote-code]") {
  RemoteCodePolicy p = enabledPolicy();
  CHECK_NOTHROW(checkHashRequired(p, ""));
  p.requireHash = true;
  REQUIRE_ISOL8_ERROR(checkHashRequired(p, ""), errc::invalid_request,
                      "Hash verification required: provide codeHash for remote code execution.");
  CHECK_NOTHROW(checkHashRequired(p, "abc"));
}

TEST_CASE("remote code: fetch messages", "[remote-code]") {
  CHECK(fetchTimedOutMessage(1500) == "Remote code fetch timed out after 1500ms");
  CHECK(fetchFailedMessage("Connection refused") == "Failed to fetch remote code: Connection refused");
  CHECK(httpStatusMessage(404) == "Failed to fetch remote code: HTTP 404");
  CHECK(contentLengthTooLargeMessage(4, 11) == "Remote code exceeds maxCodeSize (4 bytes): 11 bytes");
  CHECK(bodyTooLargeMessage(4) == "Remote code exceeds maxCodeSize (4 bytes)");
}

TEST_CASE("remote code: strict UTF-8", "[remote-code]") {
  CHECK(isValidUtf8(""));
  CHECK(isValidUtf8("print('h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80')"));
  CHECK(isValidUtf8("\xf4\x8f\xbf\xbf"));         // U+10FFFF
  CHECK_FALSE(isValidUtf8("\xc0\xaf"));            // overlong '/'
  CHECK_FALSE(isValidUtf8("\xe0\x80\xaf"));        // overlong
  CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));        // surrogate
  CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));    // above U+10FFFF
  CHECK_FALSE(isValidUtf8("\x80"));                // lone continuation
  CHECK_FALSE(isValidUtf8("\xc3"));                // truncated
  CHECK_FALSE(isValidUtf8("\xff\xfe"));
}

TEST_CASE("remote code: decoding the body", "[remote-code]") {
  CHECK(decodeFetchedCode("print(1)\n") == "print(1)\n");
  CHECK(decodeFetchedCode("\xEF\xBB\xBFprint(1)") == "print(1)");
  REQUIRE_ISOL8_ERROR(decodeFetchedCode(""), errc::invalid_request, "Remote code response body is empty");
  REQUIRE_ISOL8_ERROR(decodeFetchedCode(bytes("print(1)\0x")), errc::invalid_request,
                      "Fetched code appears to be binary content");
  REQUIRE_ISOL8_ERROR(decodeFetchedCode("\x89PNG\r\n\x1a\n"), errc::invalid_request,
                      "Fetched code is not valid UTF-8 text");
}

TEST_CASE("remote code: hash check is case-insensitive and over the decoded text", "[remote-code]") {
  const std::string code = "print('hi')\n";
  const std::string hash = sha256Hex(code);
  CHECK_NOTHROW(checkCodeHash(code, hash));
  std::string upper = hash;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK_NOTHROW(checkCodeHash(code, upper));
  CHECK_NOTHROW(checkCodeHash(code, ""));  // no hash, no check
  REQUIRE_ISOL8_ERROR(checkCodeHash(code, sha256Hex("other")), errc::invalid_request, "Remote code hash mismatch");
  // The BOM is not part of the text that is hashed.
  CHECK_NOTHROW(checkCodeHash(decodeFetchedCode("\xEF\xBB\xBF" + code), hash));
}

TEST_CASE("remote code: --github and --gist shorthands", "[remote-code]") {
  CHECK(githubRawUrl("owner/repo/main/src/app.py") == "https://raw.githubusercontent.com/owner/repo/main/src/app.py");
  CHECK(githubRawUrl("o/r/v1.0/a.sh") == "https://raw.githubusercontent.com/o/r/v1.0/a.sh");
  for (const char* bad : {"", "owner", "owner/repo/main", "owner//main/a.py", "owner/repo/main/", "/o/r/m/a.py"}) {
    INFO(bad);
    REQUIRE_ISOL8_ERROR(githubRawUrl(bad), errc::invalid_request, "--github format must be owner/repo/ref/path/to/file");
  }
  CHECK(gistRawUrl("abc123/hello.py") == "https://gist.githubusercontent.com/abc123/raw/hello.py");
  for (const char* bad : {"", "abc123", "abc123/", "/hello.py", "a/b/c.py"}) {
    INFO(bad);
    REQUIRE_ISOL8_ERROR(gistRawUrl(bad), errc::invalid_request, "--gist format must be gistId/file.ext");
  }
}

TEST_CASE("validateRequest: codeUrl counts as a source", "[validation][request][remote-code]") {
  isol8::ExecutionRequest r;
  r.runtime = "python";
  r.codeUrl = "https://example.com/a.py";
  CHECK_NOTHROW(validateRequest(r));
  const char* exclusive =
      "ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive — provide "
      "exactly one.";
  r.code = "print(1)";
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, exclusive);
  r.code.clear();
  r.cmd = "ls";
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, exclusive);
  r.codeUrl = " \t";
  CHECK_NOTHROW(validateRequest(r));
  r.cmd.clear();
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request,
                      "ExecutionRequest must include exactly one of: code, codeUrl, or cmd.");
}

TEST_CASE("config: engineOptionsFrom passes remoteCode on", "[config][remote-code]") {
  const isol8::Config c = isol8::parseConfig(
      R"({"remoteCode": {"enabled": true, "allowedSchemes": ["https", "http"], "maxCodeSize": 42,
                         "fetchTimeoutMs": 900, "requireHash": true, "allowedAddresses": ["127.0.0.1/32"]}})",
      "test");
  const isol8::EngineOptions o = isol8::engineOptionsFrom(c);
  CHECK(o.remoteCode.enabled);
  CHECK(o.remoteCode.allowedSchemes == std::vector<std::string>{"https", "http"});
  CHECK(o.remoteCode.maxCodeSize == 42);
  CHECK(o.remoteCode.fetchTimeoutMs == 900);
  CHECK(o.remoteCode.requireHash);
  CHECK(o.remoteCode.allowedAddresses == std::vector<std::string>{"127.0.0.1/32"});
  CHECK(o.remoteCode.blockedHosts == RemoteCodePolicy::defaultBlockedHosts());
}
