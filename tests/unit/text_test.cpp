#include "util/text.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <regex>
#include <set>

#include "test_support.hpp"

using namespace isol8::detail;
using Parts = std::vector<std::string>;

TEST_CASE("shellQuote", "[text]") {
  CHECK(shellQuote("") == "''");
  CHECK(shellQuote("abc") == "'abc'");
  CHECK(shellQuote("it's") == "'it'\\''s'");
  CHECK(shellQuote("''") == "''\\'''\\'''");
  // Everything but the quote is literal inside single quotes: no escaping needed or done.
  CHECK(shellQuote("$(rm -rf /) `id` \"x\" \\n ; | & *\n") == "'$(rm -rf /) `id` \"x\" \\n ; | & *\n'");
}

TEST_CASE("newUuidV4: RFC 4122 version 4 form", "[text]") {
  const std::regex form("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 200; ++i) {
    const std::string id = newUuidV4();
    INFO(id);
    REQUIRE(std::regex_match(id, form));
  }
}

TEST_CASE("newUuidV4: unique and actually random", "[text]") {
  std::set<std::string> seen;
  std::set<char> variantNibbles;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = newUuidV4();
    seen.insert(id);
    variantNibbles.insert(id[19]);
  }
  CHECK(seen.size() == 2000);
  // The two free bits of the variant nibble vary (all four values show up in 2000 draws).
  CHECK(variantNibbles == std::set<char>{'8', '9', 'a', 'b'});
}

TEST_CASE("isoTimestampNow: ISO 8601 UTC with milliseconds, and now", "[text]") {
  const auto before = std::chrono::system_clock::now();
  const std::string ts = isoTimestampNow();
  const auto after = std::chrono::system_clock::now();
  INFO(ts);
  REQUIRE(std::regex_match(ts, std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)")));

  std::tm tm{};
  tm.tm_year = std::stoi(ts.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(ts.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(ts.substr(8, 2));
  tm.tm_hour = std::stoi(ts.substr(11, 2));
  tm.tm_min = std::stoi(ts.substr(14, 2));
  tm.tm_sec = std::stoi(ts.substr(17, 2));
  const auto ms = std::chrono::milliseconds(std::stoi(ts.substr(20, 3)));
  const auto parsed = std::chrono::system_clock::from_time_t(timegm(&tm)) + ms;
  // The stamp lies between the two readings (it is truncated to milliseconds, in UTC).
  CHECK(parsed >= std::chrono::time_point_cast<std::chrono::milliseconds>(before));
  CHECK(parsed <= after);
}

TEST_CASE("sha256Hex: known vectors", "[text]") {
  CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256Hex(bytes("a\0b")) == "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
  CHECK(sha256Hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("trim", "[text]") {
  CHECK(trim("  a b \t\n") == "a b");
  CHECK(trim("\r\n\f\vx") == "x");
  CHECK(trim("") == "");
  CHECK(trim(" \t\n ") == "");
  CHECK(trim("none") == "none");
  CHECK(trim(bytes("\0x\0")) == bytes("\0x\0"));  // NUL is not whitespace
}

TEST_CASE("split", "[text]") {
  CHECK(split("a,b,,c", ',') == Parts{"a", "b", "", "c"});
  CHECK(split("abc", ',') == Parts{"abc"});
  CHECK(split("", ',') == Parts{""});
  CHECK(split(",", ',') == Parts{"", ""});
  CHECK(split("a,", ',') == Parts{"a", ""});
  CHECK(split("/usr/bin:/bin", ':') == Parts{"/usr/bin", "/bin"});
}

TEST_CASE("urlEncode", "[text]") {
  CHECK(urlEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(urlEncode("") == "");
  CHECK(urlEncode("a b") == "a%20b");
  CHECK(urlEncode("a/b?c=d&e+f#g%") == "a%2Fb%3Fc%3Dd%26e%2Bf%23g%25");
  CHECK(urlEncode("{\"label\":[\"isol8.managed=true\"]}") ==
        "%7B%22label%22%3A%5B%22isol8.managed%3Dtrue%22%5D%7D");
  CHECK(urlEncode("\xC3\xA9") == "%C3%A9");
  CHECK(urlEncode(bytes("\0\xff")) == "%00%FF");
}

TEST_CASE("base64Encode: RFC 4648 vectors and binary", "[text]") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("foob") == "Zm9vYg==");
  CHECK(base64Encode("fooba") == "Zm9vYmE=");
  CHECK(base64Encode("foobar") == "Zm9vYmFy");
  CHECK(base64Encode(bytes("\x00\x01\x02\xFF\xFE\xFB\xEF")) == "AAEC//777w==");
}

TEST_CASE("base64Decode: round trip of every byte value", "[text]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n) + all.substr(256 - n % 7);
    const auto back = base64Decode(base64Encode(part));
    REQUIRE(back);
    CHECK(*back == part);
  }
  CHECK(base64Decode("Zm9vYmFy") == std::optional<std::string>("foobar"));
  CHECK(base64Decode("") == std::optional<std::string>(""));
}

TEST_CASE("base64Decode: strict", "[text]") {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v", "Zg==Zg==", "Zm=v",
                          "Zm9v-_==", "Zh==", "Zm9=", "Zm8==", "Z*9v"}) {
    INFO(bad);
    CHECK_FALSE(base64Decode(bad));
  }
}

TEST_CASE("isValidUtf8 and toValidUtf8", "[text]") {
  CHECK(isValidUtf8(""));
  CHECK(isValidUtf8(bytes("a\0b")));
  CHECK(isValidUtf8("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in, out;
  };
  for (const auto& [in, out] : std::vector<Case>{
           {"\xFF", fffd},                                     // never valid
           {"\xC0\xAF", fffd + fffd},                          // overlong '/'
           {"\xE0\x80\xAF", fffd + fffd + fffd},               // overlong, three bytes
           {"\xED\xA0\x80", fffd + fffd + fffd},               // a surrogate
           {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},    // above U+10FFFF
           {"a\xE2\x82", "a" + fffd},                          // cut off: one replacement
           {"\xE2\x82" "b", fffd + "b"},                       // broken by the next byte
           {"\x80x", fffd + "x"},                              // a lone continuation byte
           {"\xF0\x9F\x98", fffd},                             // a cut-off emoji
       }) {
    INFO(in);
    CHECK_FALSE(isValidUtf8(in));
    CHECK(toValidUtf8(in) == out);
    CHECK(isValidUtf8(toValidUtf8(in)));
  }
  CHECK(toValidUtf8("ok \xE2\x82\xAC") == "ok \xE2\x82\xAC");
}

TEST_CASE("randomHex: lower-case hex of the asked length, different each time", "[text]") {
  const std::regex form("^[0-9a-f]{64}$");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string h = randomHex(32);
    REQUIRE(std::regex_match(h, form));
    seen.insert(h);
  }
  CHECK(seen.size() == 100);
  CHECK(randomHex(0).empty());
}

TEST_CASE("isoTimestamp and parseIsoTimestamp: JavaScript's toISOString form, both ways", "[text]") {
  CHECK(isoTimestamp(0) == "1970-01-01T00:00:00.000Z");
  CHECK(isoTimestamp(1'772'366'400'000) == "2026-03-01T12:00:00.000Z");
  CHECK(isoTimestamp(1'772'366'400'007) == "2026-03-01T12:00:00.007Z");
  CHECK(isoTimestamp(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(isoTimestamp(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{1'772'366'400'007}, std::int64_t{951'782'400'000},
                               std::int64_t{253'402'300'799'999}}) {
    INFO(t);
    CHECK(parseIsoTimestamp(isoTimestamp(t)) == t);
  }
  CHECK(parseIsoTimestamp("2000-02-29T00:00:00.000Z") == 951'782'400'000);  // a leap day
  for (const char* bad : {"", "2026-03-01T12:00:00Z", "2026-03-01 12:00:00.000Z", "2026-03-01T12:00:00.000",
                          "2026-03-01T12:00:00.000Z ", "2026-02-30T00:00:00.000Z", "2026-13-01T00:00:00.000Z",
                          "2026-03-01T24:00:00.000Z", "2026-03-01T12:60:00.000Z", "+02026-03-01T12:00:00.00Z",
                          "2026-03-01T12:00:00.0a0Z"}) {
    INFO(bad);
    CHECK_FALSE(parseIsoTimestamp(bad));
  }
}
