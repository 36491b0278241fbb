#include "network/url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "isol8/error.hpp"
#include "network/address_policy.hpp"

namespace isol8::detail {
namespace {

[[noreturn]] void invalidUrl(std::string_view text) {
  throw Error(errc::invalid_request, fmt::format("Invalid URL: {}", text));
}

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool isSpecial(std::string_view scheme) { return scheme == "http" || scheme == "https"; }

std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// WHATWG "IPv4 number": decimal, 0x-hex (digits may be empty), or 0-prefixed octal.
std::optional<std::uint64_t> ipv4Number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (char c : part) {
    const int digit = hexValue(c);
    if (digit < 0 || digit >= base) return std::nullopt;
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    if (value > 0xFFFFFFFFull * 256) return std::nullopt;  // far past any valid part
  }
  return value;
}

// "a.b." → {"a", "b", ""}.
std::vector<std::string_view> dotSeparated(std::string_view host) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = host.find('.', start);
    parts.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

// WHATWG "ends in a number": the last label (a trailing empty label dropped) is all digits or
// an IPv4 number.
bool endsInNumber(std::string_view host) {
  std::vector<std::string_view> parts = dotSeparated(host);
  if (parts.back().empty()) {
    if (parts.size() == 1) return false;
    parts.pop_back();
  }
  const std::string_view last = parts.back();
  if (!last.empty() && std::all_of(last.begin(), last.end(), isDigit)) return true;
  return ipv4Number(last).has_value();
}

std::optional<std::string> whatwgIpv4(std::string_view host) {
  std::vector<std::string_view> parts = dotSeparated(host);
  if (parts.back().empty() && parts.size() > 1) parts.pop_back();
  if (parts.size() > 4) return std::nullopt;
  std::vector<std::uint64_t> numbers;
  for (auto part : parts) {
    auto n = ipv4Number(part);
    if (!n) return std::nullopt;
    numbers.push_back(*n);
  }
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i)
    if (numbers[i] > 255) return std::nullopt;
  const std::uint64_t limit = std::uint64_t{1} << (8 * (5 - numbers.size()));
  if (numbers.back() >= limit) return std::nullopt;
  std::uint64_t ipv4 = numbers.back();
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) ipv4 += numbers[i] << (8 * (3 - i));
  return fmt::format("{}.{}.{}.{}", (ipv4 >> 24) & 255, (ipv4 >> 16) & 255, (ipv4 >> 8) & 255, ipv4 & 255);
}

// The WHATWG IPv6 parser, then the canonical serialisation (lower-case, longest zero run
// compressed).
std::optional<std::string> whatwgIpv6(std::string_view in) {
  std::array<std::uint16_t, 8> pieces{};
  int pieceIndex = 0;
  int compress = -1;
  std::size_t p = 0;
  auto at = [&](std::size_t i) -> int { return i < in.size() ? static_cast<unsigned char>(in[i]) : -1; };
  if (at(p) == ':') {
    if (at(p + 1) != ':') return std::nullopt;
    p += 2;
    compress = ++pieceIndex;
  }
  while (at(p) != -1) {
    if (pieceIndex == 8) return std::nullopt;
    if (at(p) == ':') {
      if (compress != -1) return std::nullopt;
      ++p;
      compress = ++pieceIndex;
      continue;
    }
    unsigned value = 0;
    int length = 0;
    while (length < 4 && at(p) != -1 && hexValue(static_cast<char>(at(p))) >= 0) {
      value = value * 16 + static_cast<unsigned>(hexValue(static_cast<char>(at(p))));
      ++p;
      ++length;
    }
    if (at(p) == '.') {
      if (length == 0) return std::nullopt;
      p -= static_cast<std::size_t>(length);
      if (pieceIndex > 6) return std::nullopt;
      int numbersSeen = 0;
      while (at(p) != -1) {
        int piece = -1;
        if (numbersSeen > 0) {
          if (at(p) == '.' && numbersSeen < 4) ++p;
          else return std::nullopt;
        }
        if (at(p) == -1 || !isDigit(static_cast<char>(at(p)))) return std::nullopt;
        while (at(p) != -1 && isDigit(static_cast<char>(at(p)))) {
          const int number = at(p) - '0';
          if (piece == -1) piece = number;
          else if (piece == 0) return std::nullopt;
          else piece = piece * 10 + number;
          if (piece > 255) return std::nullopt;
          ++p;
        }
        pieces[static_cast<std::size_t>(pieceIndex)] =
            static_cast<std::uint16_t>(pieces[static_cast<std::size_t>(pieceIndex)] * 0x100 + piece);
        ++numbersSeen;
        if (numbersSeen == 2 || numbersSeen == 4) ++pieceIndex;
      }
      if (numbersSeen != 4) return std::nullopt;
      break;
    }
    if (at(p) == ':') {
      ++p;
      if (at(p) == -1) return std::nullopt;
    } else if (at(p) != -1) {
      return std::nullopt;
    }
    pieces[static_cast<std::size_t>(pieceIndex)] = static_cast<std::uint16_t>(value);
    ++pieceIndex;
  }
  if (compress != -1) {
    int swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex != 0 && swaps > 0) {
      std::swap(pieces[static_cast<std::size_t>(pieceIndex)], pieces[static_cast<std::size_t>(compress + swaps - 1)]);
      --pieceIndex;
      --swaps;
    }
  } else if (pieceIndex != 8) {
    return std::nullopt;
  }

  // Longest run of two or more zero pieces (the first one on a tie) becomes "::".
  int bestStart = -1, bestLength = 1;
  for (int i = 0; i < 8;) {
    if (pieces[static_cast<std::size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && pieces[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == bestStart) {
      out += i == 0 ? "::" : ":";
      i += bestLength - 1;
      continue;
    }
    out += fmt::format("{:x}", pieces[static_cast<std::size_t>(i)]);
    if (i != 7) out += ':';
  }
  return out;
}

// Characters a request target cannot carry raw; WHATWG's path and query percent-encode sets.
bool needsEncoding(unsigned char c, bool query) {
  if (c <= 0x20 || c >= 0x7F) return true;
  switch (c) {
    case '"': case '#': case '<': case '>': return true;
    case '`': case '{': case '}': case '?': return !query;
    case '\'': return query;
    default: return false;
  }
}

std::string encode(std::string_view s, bool query) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (needsEncoding(c, query)) out += fmt::format("%{:02X}", c);
    else out += ch;
  }
  return out;
}

bool isDotSegment(std::string_view s) {
  return s == "." || s == "%2e" || s == "%2E";
}
bool isDoubleDotSegment(std::string_view s) {
  if (s.size() < 2) return false;
  std::string l;
  for (char c : s) l += lower(c);
  return l == ".." || l == ".%2e" || l == "%2e." || l == "%2e%2e";
}

// "/a/./b/../c" → "/a/c", each segment percent-encoded.
std::string normalizePath(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 1;  // path starts with '/'
  bool trailingSlash = false;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    const auto segment = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    const bool last = slash == std::string_view::npos;
    if (isDoubleDotSegment(segment)) {
      if (!segments.empty()) segments.pop_back();
      trailingSlash = last;
    } else if (isDotSegment(segment)) {
      trailingSlash = last;
    } else {
      segments.push_back(encode(segment, false));
      trailingSlash = false;
    }
    if (last) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& s : segments) out += "/" + s;
  if (trailingSlash || out.empty()) out += "/";
  return out;
}

}  // namespace

std::uint16_t ParsedUrl::effectivePort() const {
  if (port) return *port;
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  return 0;
}

std::string ParsedUrl::hostHeader() const { return port ? fmt::format("{}:{}", host, *port) : host; }

std::string ParsedUrl::href() const { return fmt::format("{}://{}{}", scheme, hostHeader(), target); }

ParsedUrl parseUrl(std::string_view original) {
  // Leading and trailing C0 controls and spaces are dropped; tabs and newlines anywhere too.
  std::string text;
  {
    std::size_t b = 0, e = original.size();
    while (b < e && static_cast<unsigned char>(original[b]) <= 0x20) ++b;
    while (e > b && static_cast<unsigned char>(original[e - 1]) <= 0x20) --e;
    for (char c : original.substr(b, e - b))
      if (c != '\t' && c != '\n' && c != '\r') text += c;
  }

  ParsedUrl url;
  std::size_t i = 0;
  if (text.empty() || !isAlpha(text[0])) invalidUrl(original);
  while (i < text.size() && (isAlpha(text[i]) || isDigit(text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.'))
    url.scheme += lower(text[i++]);
  if (i >= text.size() || text[i] != ':') invalidUrl(original);
  ++i;

  const bool special = isSpecial(url.scheme);
  std::string rest = text.substr(i);
  if (special) {
    for (char& c : rest)
      if (c == '\\') c = '/';
  }
  if (const auto hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);

  std::string_view r = rest;
  bool hasAuthority = false;
  if (special) {
    while (!r.empty() && r.front() == '/') r.remove_prefix(1);
    hasAuthority = true;
  } else if (r.starts_with("//")) {
    r.remove_prefix(2);
    hasAuthority = true;
  }

  if (hasAuthority) {
    const auto end = r.find_first_of("/?");
    std::string_view authority = r.substr(0, end);
    r = end == std::string_view::npos ? std::string_view{} : r.substr(end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      url.hasCredentials = at > 0;
      authority.remove_prefix(at + 1);
    }
    std::string_view hostPart = authority, portPart;
    bool hasPort = false;
    if (authority.starts_with("[")) {
      const auto close = authority.find(']');
      if (close == std::string_view::npos) invalidUrl(original);
      hostPart = authority.substr(0, close + 1);
      const auto after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') invalidUrl(original);
        portPart = after.substr(1);
        hasPort = true;
      }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
      hostPart = authority.substr(0, colon);
      portPart = authority.substr(colon + 1);
      hasPort = true;
    }

    if (hasPort && !portPart.empty()) {
      std::uint32_t port = 0;
      for (char c : portPart) {
        if (!isDigit(c)) invalidUrl(original);
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > 65535) invalidUrl(original);
      }
      const bool isDefault = (url.scheme == "http" && port == 80) || (url.scheme == "https" && port == 443);
      if (!isDefault) url.port = static_cast<std::uint16_t>(port);
    }

    if (hostPart.starts_with("[")) {
      auto v6 = whatwgIpv6(hostPart.substr(1, hostPart.size() - 2));
      if (!v6) invalidUrl(original);
      url.hostName = *v6;
      url.host = "[" + *v6 + "]";
      url.ipLiteral = true;
    } else {
      std::string host = percentDecode(hostPart);
      for (char& c : host) {
        const auto u = static_cast<unsigned char>(c);
        // No IDNA: a non-ASCII name is refused rather than resolved in some other spelling.
        if (u <= 0x20 || u >= 0x7F || std::string_view("#%/:<>?@[\\]^|").find(c) != std::string_view::npos)
          invalidUrl(original);
        c = lower(c);
      }
      if (host.empty() && special) invalidUrl(original);
      if (!host.empty() && endsInNumber(host)) {
        auto v4 = whatwgIpv4(host);
        if (!v4) invalidUrl(original);
        host = *v4;
        url.ipLiteral = true;
      }
      url.host = host;
      url.hostName = host;
    }
  }

  // Path and query.
  std::string_view path = r, query;
  bool hasQuery = false;
  if (const auto q = r.find('?'); q != std::string_view::npos) {
    path = r.substr(0, q);
    query = r.substr(q + 1);
    hasQuery = true;
  }
  if (hasAuthority) {
    url.target = normalizePath(path.empty() ? std::string_view("/") : path);
  } else {
    url.target = encode(path, false);
  }
  if (hasQuery) url.target += "?" + encode(query, true);
  return url;
}

ParsedUrl resolveUrl(const ParsedUrl& base, std::string_view reference) {
  std::string ref;
  {
    std::size_t b = 0, e = reference.size();
    while (b < e && static_cast<unsigned char>(reference[b]) <= 0x20) ++b;
    while (e > b && static_cast<unsigned char>(reference[e - 1]) <= 0x20) --e;
    for (char c : reference.substr(b, e - b))
      if (c != '\t' && c != '\n' && c != '\r') ref += c;
  }
  // Absolute: a scheme followed by ':'.
  if (!ref.empty() && isAlpha(ref[0])) {
    std::size_t i = 0;
    while (i < ref.size() && (isAlpha(ref[i]) || isDigit(ref[i]) || ref[i] == '+' || ref[i] == '-' || ref[i] == '.')) ++i;
    if (i < ref.size() && ref[i] == ':') return parseUrl(ref);
  }
  if (isSpecial(base.scheme)) {
    for (char& c : ref)
      if (c == '\\') c = '/';
  }
  const std::string origin = fmt::format("{}://{}", base.scheme, base.hostHeader());
  if (ref.starts_with("//")) return parseUrl(base.scheme + ":" + ref);
  if (ref.starts_with("/")) return parseUrl(origin + ref);
  const auto q = base.target.find('?');
  const std::string basePath = base.target.substr(0, q);
  if (ref.empty() || ref.starts_with("#")) return parseUrl(origin + base.target);
  if (ref.starts_with("?")) return parseUrl(origin + basePath + ref);
  const auto slash = basePath.rfind('/');
  return parseUrl(origin + basePath.substr(0, slash + 1) + ref);
}

std::optional<std::string> canonicalIpHost(std::string_view host) {
  std::string lowered(host);
  for (char& c : lowered) c = lower(c);
  std::string_view text(lowered);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.find(':') != std::string_view::npos) {
    const auto v6 = whatwgIpv6(text);
    const auto address = v6 ? parseIpv6(*v6) : std::nullopt;
    if (!address) return std::nullopt;
    const IpAddress plain = address->unmapped();
    return plain.v4 ? plain.toString() : "[" + plain.toString() + "]";
  }
  if (text.empty() || host.front() == '[' || !endsInNumber(text)) return std::nullopt;
  return whatwgIpv4(text);
}

std::string urlFileName(std::string_view text) {
  try {
    const ParsedUrl url = parseUrl(text);
    std::string path = url.target.substr(0, url.target.find('?'));
    return percentDecode(path.substr(path.rfind('/') + 1));
  } catch (const Error&) {
    return {};
  }
}

}  // namespace isol8::detail
