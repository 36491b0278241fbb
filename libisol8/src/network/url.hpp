// URL parsing for remote code fetching: the parts of the WHATWG URL rules a fetcher needs to
// decide on the right host (userinfo split at the last '@', backslashes as slashes for
// http/https, IPv4 numbers in every form 127.1 / 0x7f.0.0.1 / 2130706433 normalised to
// dotted decimal, IPv6 literals in canonical form), and to resolve a redirect's Location.
// Host names are lower-cased; non-ASCII host names (IDNA) are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isol8::detail {

struct ParsedUrl {
  std::string scheme;    // lower-case, no ':' ("https")
  std::string host;      // as WHATWG's URL.hostname: lower-case, IPv6 in brackets ("[::1]")
  std::string hostName;  // what to resolve: host without the brackets
  bool ipLiteral = false;    // host is an IPv4 or IPv6 address
  bool hasCredentials = false;  // user:password@ present
  std::optional<std::uint16_t> port;  // explicit, non-default port
  std::string target;    // path and query, percent-encoded as sent ("/a/b.py?x=1"); "/" when empty

  // 80 for http, 443 for https, else the explicit port (0 when none).
  std::uint16_t effectivePort() const;
  // Host header value: host plus ":port" when the port is not the scheme's default.
  std::string hostHeader() const;
  // The URL without credentials or fragment ("https://example.com/a.py").
  std::string href() const;
};

// Throws Error(invalid_request) "Invalid URL: <text>" when the text is not an absolute URL.
ParsedUrl parseUrl(std::string_view text);

// A redirect's Location (absolute, scheme-relative "//h/p", absolute path, relative path,
// "?query") resolved against the URL it came from. Throws like parseUrl.
ParsedUrl resolveUrl(const ParsedUrl& base, std::string_view reference);

// The canonical spelling of an IP-literal host, so that a host policy written for one spelling
// holds for all: an IPv4 address in any form a resolver or URL parser takes ("2130706433",
// "0x7f.0.0.1", "127.1", "0177.0.0.1") → "127.0.0.1"; an IPv6 address, bracketed or not →
// "[" RFC 5952 form "]" ("[0:0::1]" → "[::1]"), an IPv4-mapped one → its dotted IPv4 address
// ("[::ffff:127.0.0.1]" → "127.0.0.1"). nullopt for a host name or anything else.
std::optional<std::string> canonicalIpHost(std::string_view host);

// The last path segment of a URL's path (query and fragment ignored), percent-decoded:
// "https://h/a/b.py?x" → "b.py". Empty when the URL does not parse or the path ends in '/'.
std::string urlFileName(std::string_view url);

}  // namespace isol8::detail
