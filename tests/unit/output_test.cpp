#include "engine/output.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "test_support.hpp"

using isol8::detail::OutputCollector;

namespace {

std::string marker(std::int64_t total, std::int64_t max) {
  return "\n\n--- OUTPUT TRUNCATED (" + std::to_string(total) + " bytes, limit: " + std::to_string(max) + ") ---";
}

// Feeds chunks and returns what a streaming consumer would have been shown.
std::string feed(OutputCollector& c, const std::vector<std::string>& chunks) {
  std::string shown;
  for (const std::string& chunk : chunks) shown += c.append(chunk);
  return shown;
}

// Strict UTF-8 check (no overlongs or surrogates needed here: inputs are valid text).
bool completeUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("output under the cap passes through untouched", "[output]") {
  OutputCollector c(100);
  CHECK(c.append("hello ") == "hello ");
  CHECK(c.append("world\n") == "world\n");
  CHECK_FALSE(c.truncated());
  CHECK(c.totalBytes() == 12);
  CHECK(c.finish() == "hello world\n");  // no trimming of trailing whitespace
}

TEST_CASE("output exactly at the cap is not truncated", "[output]") {
  OutputCollector c(5);
  CHECK(c.append("hello") == "hello");
  CHECK(c.append("") == "");
  CHECK_FALSE(c.truncated());
  CHECK(c.finish() == "hello");
}

TEST_CASE("one chunk over the cap is cut at the cap", "[output]") {
  OutputCollector c(5);
  CHECK(c.append("hello world") == "hello");
  CHECK(c.truncated());
  CHECK(c.totalBytes() == 11);
  CHECK(c.finish() == "hello\n\n--- OUTPUT TRUNCATED (11 bytes, limit: 5) ---");
}

TEST_CASE("after the cap nothing more is shown but every byte is counted", "[output]") {
  OutputCollector c(10);
  CHECK(c.append("12345678") == "12345678");
  CHECK(c.append("abcdef") == "ab");
  CHECK(c.append("xyz") == "");
  CHECK(c.append(std::string(1000, 'z')) == "");
  CHECK(c.totalBytes() == 1017);
  CHECK(c.finish() == "12345678ab" + marker(1017, 10));
}

TEST_CASE("the returned view points into the chunk", "[output]") {
  OutputCollector c(4);
  const std::string chunk = "abcdef";
  const std::string_view shown = c.append(chunk);
  CHECK(shown.data() == chunk.data());
  CHECK(shown.size() == 4);
}

TEST_CASE("binary bytes and NULs are kept exactly", "[output]") {
  OutputCollector c(100);
  const std::string data = bytes("\x00\xff\xfe\x80\x00" "abc");
  CHECK(c.append(data) == data);
  CHECK(c.finish() == data);
}

TEST_CASE("a cap of zero keeps nothing", "[output]") {
  OutputCollector c(0);
  CHECK(c.append("abc") == "");
  CHECK(c.finish() == marker(3, 0));
}

TEST_CASE("the cut never splits a UTF-8 character inside one chunk", "[output][utf8]") {
  SECTION("2-byte character") {
    OutputCollector c(5);
    CHECK(c.append("abcd\xC3\xA9") == "abcd");  // "abcdé" is 6 bytes
    CHECK(c.finish() == "abcd" + marker(6, 5));
  }
  SECTION("3-byte character, cut after its first byte") {
    OutputCollector c(3);
    CHECK(c.append("ab\xE2\x82\xAC") == "ab");  // "ab€"
    CHECK(c.finish() == "ab" + marker(5, 3));
  }
  SECTION("3-byte character, cut after its second byte") {
    OutputCollector c(4);
    CHECK(c.append("ab\xE2\x82\xAC") == "ab");
    CHECK(c.finish() == "ab" + marker(5, 4));
  }
  SECTION("4-byte character, every cut inside it") {
    for (int max = 2; max <= 4; ++max) {
      OutputCollector c(max);
      CHECK(c.append("a\xF0\x9F\x98\x80!") == "a");  // "a😀!"
      CHECK(c.finish() == "a" + marker(6, max));
    }
  }
  SECTION("cut right after a whole character keeps it") {
    OutputCollector c(5);
    CHECK(c.append("a\xF0\x9F\x98\x80!") == "a\xF0\x9F\x98\x80");
    CHECK(c.finish() == "a\xF0\x9F\x98\x80" + marker(6, 5));
  }
}

TEST_CASE("a character split across chunks is not shown in half at the cut", "[output][utf8]") {
  SECTION("the character cannot fit: its first byte is held back and dropped") {
    OutputCollector c(5);
    CHECK(c.append("abc\xE2") == "abc");  // € needs 2 more bytes; only 1 left under the cap
    CHECK(c.append("\x82\xAC" "d") == "");
    CHECK(c.finish() == "abc" + marker(7, 5));
  }
  SECTION("the character fits exactly: shown whole, in two pieces") {
    OutputCollector c(6);
    CHECK(c.append("abc\xE2") == "abc\xE2");
    CHECK(c.append("\x82\xAC" "d") == "\x82\xAC");
    CHECK(c.finish() == "abc\xE2\x82\xAC" + marker(7, 6));
  }
  SECTION("the character arrives byte by byte and cannot fit") {
    OutputCollector c(5);
    CHECK(c.append("ab") == "ab");
    // "ab" + 4 bytes = 6 > 5: none of its bytes is ever shown.
    CHECK(c.append("\xF0") == "");
    CHECK(c.append("\x9F") == "");
    CHECK(c.append("\x98") == "");
    CHECK_FALSE(c.truncated());
    CHECK(c.append("\x80") == "");
    CHECK(c.truncated());
    CHECK(c.finish() == "ab" + marker(6, 5));
  }
  SECTION("the character arrives byte by byte and fits") {
    OutputCollector c(6);
    CHECK(c.append("ab") == "ab");
    CHECK(c.append("\xF0") == "\xF0");
    CHECK(c.append("\x9F") == "\x9F");
    CHECK(c.append("\x98") == "\x98");
    CHECK(c.append("\x80") == "\x80");
    CHECK(c.append("c") == "");
    CHECK(c.finish() == "ab\xF0\x9F\x98\x80" + marker(7, 6));
  }
}

TEST_CASE("a program ending in an unfinished character near the cap loses nothing", "[output][utf8]") {
  OutputCollector c(4);
  CHECK(c.append("abc\xE2") == "abc");  // held back from the stream view: it cannot complete
  CHECK_FALSE(c.truncated());
  CHECK(c.finish() == "abc\xE2");  // but the program did write it, and it fits
}

TEST_CASE("random splits: stream view, kept bytes and count agree", "[output][utf8]") {
  // Text mixing 1- to 4-byte characters.
  std::string text;
  const char* pieces[] = {"a",          "Z",          " ",          "\n",
                          "\xC3\xA9",   "\xD0\x96",   "\xE2\x82\xAC", "\xE4\xB8\xAD",
                          "\xF0\x9F\x98\x80"};
  std::mt19937 rng(12345);
  for (int i = 0; i < 400; ++i) text += pieces[rng() % std::size(pieces)];

  for (int round = 0; round < 300; ++round) {
    const auto max = static_cast<std::int64_t>(rng() % (text.size() + 20));
    std::vector<std::string> chunks;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 17, text.size() - pos);
      chunks.push_back(text.substr(pos, n));
      pos += n;
    }
    OutputCollector c(max);
    const std::string shown = feed(c, chunks);
    const std::string out = c.finish();
    INFO("round " << round << " max " << max);

    REQUIRE(c.totalBytes() == static_cast<std::int64_t>(text.size()));
    REQUIRE(c.truncated() == (static_cast<std::int64_t>(text.size()) > max));
    const std::string kept = c.truncated() ? out.substr(0, out.size() - marker(c.totalBytes(), max).size()) : out;
    if (c.truncated()) REQUIRE(out.substr(kept.size()) == marker(c.totalBytes(), max));
    REQUIRE(shown == kept);                                     // stream view == buffered result
    REQUIRE(text.compare(0, kept.size(), kept) == 0);           // a prefix of the output
    REQUIRE(static_cast<std::int64_t>(kept.size()) <= max);     // never over the cap
    REQUIRE(static_cast<std::int64_t>(kept.size()) >= std::min<std::int64_t>(max, text.size()) - 3);
    REQUIRE(completeUtf8(kept));                                // no half character at the cut
  }
}

// ---- secret masking ----------------------------------------------------------------------

namespace {
// Feeds `chunks` through a masker and returns every piece it released, in order.
std::vector<std::string> maskChunks(std::vector<std::string> secrets, const std::vector<std::string>& chunks) {
  isol8::detail::SecretMasker masker(std::move(secrets));
  std::vector<std::string> released;
  for (const auto& c : chunks) released.push_back(masker.feed(c));
  released.push_back(masker.flush());
  return released;
}
std::string concat(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& p : parts) all += p;
  return all;
}
}  // namespace

TEST_CASE("masking: every occurrence of every secret becomes ***", "[output][secrets]") {
  using isol8::detail::maskSecrets;
  CHECK(maskSecrets("a hunter2 b hunter2", {"hunter2"}) == "a *** b ***");
  CHECK(maskSecrets("k1=abc k2=xyz", {"abc", "xyz"}) == "k1=*** k2=***");
  CHECK(maskSecrets("nothing here", {}) == "nothing here");
  CHECK(maskSecrets("empty values are ignored", {""}) == "empty values are ignored");
  // Overlapping secrets: the longest one at a position wins.
  CHECK(maskSecrets("tokenABCDEF", {"ABC", "ABCDEF"}) == "token***");
}

TEST_CASE("masking: a secret split across chunks never leaks, not even in part", "[output][secrets]") {
  const std::string secret = "SuperSecretValue42";
  for (std::size_t cut = 1; cut < secret.size(); ++cut) {
    auto released = maskChunks({secret}, {"token=" + secret.substr(0, cut), secret.substr(cut) + " end"});
    CHECK(concat(released) == "token=*** end");
    // The first chunk alone must not release the secret's beginning.
    CHECK(released[0] == "token=");
  }
  // Split over many one-byte chunks.
  std::vector<std::string> bytes;
  for (char c : "x" + secret + "y") bytes.emplace_back(1, c);
  CHECK(concat(maskChunks({secret}, bytes)) == "x***y");
}

TEST_CASE("masking: a held-back prefix that is not a secret is released", "[output][secrets]") {
  auto released = maskChunks({"secret"}, {"the sec", "ond line"});
  CHECK(released[0] == "the ");
  CHECK(concat(released) == "the second line");
  // Output ending in a partial secret comes out at flush.
  released = maskChunks({"secret"}, {"ends with sec"});
  CHECK(released.back() == "sec");
  CHECK(concat(released) == "ends with sec");
}

TEST_CASE("masking: overlapping and adjacent occurrences are masked whole, as one ***", "[output][secrets]") {
  using isol8::detail::maskSecrets;
  CHECK(maskSecrets("hunter2hunter2!", {"hunter2"}) == "***!");
  CHECK(maskSecrets("xABCDEFy", {"ABCD", "CDEF"}) == "x***y");  // neither alone would hide all
  CHECK(maskSecrets("aaab", {"aab"}) == "a***");
  CHECK(maskSecrets("abcab", {"abc", "b"}) == "***a***");
  // A secret's prefix that never completes is released as it is.
  CHECK(maskSecrets("aaaaaaaa", {"aaaaaaaaab"}) == "aaaaaaaa");
}

TEST_CASE("masking: any chunking gives the same text as masking it whole", "[output][secrets]") {
  const std::vector<std::string> secrets{"abcab", "bca", "zz", "caba"};
  const std::string text = "xxabcabcabzzzqcabab-abca-zz.bcab";
  const std::string whole = isol8::detail::maskSecrets(text, secrets);
  for (std::size_t size = 1; size <= text.size(); ++size) {
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < text.size(); i += size) chunks.push_back(text.substr(i, size));
    INFO("chunk size " << size);
    CHECK(concat(maskChunks(secrets, chunks)) == whole);
  }
  CHECK(whole.find("bca") == std::string::npos);
  CHECK(whole.find("zz") == std::string::npos);
}
