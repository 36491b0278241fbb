#include "util/text.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace isol8::detail {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string toHex(const unsigned char* bytes, std::size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void fillRandom(unsigned char* out, std::size_t size) {
  // The kernel's CSPRNG (what /dev/urandom serves, without needing a file descriptor): ids
  // such as session ids and API keys must not be guessable from earlier ones, which rules out
  // a seeded PRNG.
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t n = getrandom(out + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    filled += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string shellQuote(std::string_view s) {
  // Inside single quotes nothing is special except the closing quote, which is written as
  // "end quote, escaped quote, reopen quote".
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> b(bytes);
  fillRandom(b.data(), b.size());
  return toHex(b.data(), b.size());
}

std::string newUuidV4() {
  unsigned char b[16];
  fillRandom(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = toHex(b, sizeof b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string isoTimestampNow() {
  using namespace std::chrono;
  return isoTimestamp(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string isoTimestamp(std::int64_t epochMs) {
  // Floor division, so times before 1970 keep a millisecond part in 0..999.
  std::int64_t secs = epochMs / 1000;
  std::int64_t millis = epochMs % 1000;
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

std::optional<std::int64_t> parseIsoTimestamp(std::string_view s) {
  // Exactly the form isoTimestamp writes (JavaScript's toISOString): YYYY-MM-DDTHH:MM:SS.mmmZ.
  if (s.size() != 24) return std::nullopt;
  const auto number = [&](std::size_t pos, std::size_t len, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second, millis;
  if (!number(0, 4, year) || s[4] != '-' || !number(5, 2, month) || s[7] != '-' || !number(8, 2, day) ||
      s[10] != 'T' || !number(11, 2, hour) || s[13] != ':' || !number(14, 2, minute) || s[16] != ':' ||
      !number(17, 2, second) || s[19] != '.' || !number(20, 3, millis) || s[23] != 'Z') {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const std::time_t secs = timegm(&utc);
  if (utc.tm_mday != day) return std::nullopt;  // timegm normalised an impossible date (Feb 30)
  return static_cast<std::int64_t>(secs) * 1000 + millis;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return toHex(digest, length);
}

std::string trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(std::string_view s, char sep) {
  // n separators always give n + 1 fields (so "" gives one empty field), as in JS and Python.
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::string urlEncode(std::string_view s) {
  // RFC 3986 unreserved characters pass; everything else, bytes of UTF-8 included, is %XX.
  std::string out;
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += "0123456789ABCDEF"[byte >> 4];
      out += "0123456789ABCDEF"[byte & 0x0f];
    }
  }
  return out;
}

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// One step of the WHATWG UTF-8 decoder at s[i]: whether a well-formed sequence starts there,
// and how many bytes it (or the maximal ill-formed prefix, at least one byte) spans.
struct Utf8Step {
  bool valid;
  std::size_t length;
};

Utf8Step utf8Step(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {true, 1};
  int need = 0;
  unsigned lower = 0x80;
  unsigned upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lower = 0xA0;  // overlong
    if (lead == 0xED) upper = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lower = 0x90;  // overlong
    if (lead == 0xF4) upper = 0x8F;  // above U+10FFFF
  } else {
    return {false, 1};
  }
  std::size_t j = i + 1;
  for (int seen = 0; seen < need; ++seen, ++j) {
    if (j >= s.size()) return {false, j - i};
    const auto byte = static_cast<unsigned char>(s[j]);
    if (byte < lower || byte > upper) return {false, j - i};  // that byte starts the next step
    lower = 0x80;
    upper = 0xBF;
  }
  return {true, j - i};
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) n |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  if (padding == 1 && text.size() >= 2 && text[text.size() - 2] == '=') return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t used = last ? 4 - padding : 4;  // significant characters in this group
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int v = 0;
      if (k < used) {
        v = base64Value(text[i + k]);
        if (v < 0) return std::nullopt;  // '=' in the middle, whitespace, URL-safe alphabet...
      }
      n = (n << 6) | static_cast<std::uint32_t>(v);
    }
    // Bits beyond the last whole byte must be zero: one spelling per byte string.
    if (used == 2 && (n & 0xFFFF) != 0) return std::nullopt;
    if (used == 3 && (n & 0xFF) != 0) return std::nullopt;
    out += static_cast<char>((n >> 16) & 0xFF);
    if (used >= 3) out += static_cast<char>((n >> 8) & 0xFF);
    if (used == 4) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

bool isValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const Utf8Step step = utf8Step(s, i);
    if (!step.valid) return false;
    i += step.length;
  }
  return true;
}

std::string toValidUtf8(std::string_view s) {
  if (isValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    const Utf8Step step = utf8Step(s, i);
    if (step.valid) {
      out.append(s.substr(i, step.length));
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
    }
    i += step.length;
  }
  return out;
}

}  // namespace isol8::detail
