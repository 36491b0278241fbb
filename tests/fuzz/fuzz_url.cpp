// URL parsing (network/url.hpp): codeUrl from clients and redirect Locations from remote
// servers, from which the host to check against the policy is taken. Input: "<url>\n<reference>".
// Invariants: host and hostName agree (brackets only for IPv6), and an http(s) URL's href()
// parses back to the same host, port and target (what the fetcher connects to is what the
// policy saw), also after a redirect is resolved.
#include "fuzz_support.hpp"
#include "isol8/error.hpp"
#include "network/url.hpp"

using namespace isol8;

namespace {

void checkParsed(const detail::ParsedUrl& url) {
  const bool bracketed = url.host.starts_with('[');
  fuzz::require(url.hostName == (bracketed ? url.host.substr(1, url.host.size() - 2) : url.host));
  fuzz::require(!bracketed || url.ipLiteral);
  if (url.scheme != "http" && url.scheme != "https") return;
  fuzz::require(!url.host.empty() && url.target.starts_with('/'));
  const detail::ParsedUrl again = detail::parseUrl(url.href());  // an Error here escapes
  fuzz::require(again.scheme == url.scheme && again.host == url.host && again.hostName == url.hostName &&
                again.ipLiteral == url.ipLiteral && again.port == url.port && again.target == url.target &&
                !again.hasCredentials);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::text(data, size);
  const auto newline = input.find('\n');  // parseUrl drops newlines, so it cannot be part of a URL
  const std::string_view text = input.substr(0, newline);
  detail::urlFileName(text);  // never throws
  detail::ParsedUrl base;
  if (!fuzz::completes<Error>([&] { base = detail::parseUrl(text); })) return 0;
  checkParsed(base);
  if (newline == std::string_view::npos) return 0;
  detail::ParsedUrl resolved;
  if (fuzz::completes<Error>([&] { resolved = detail::resolveUrl(base, input.substr(newline + 1)); }))
    checkParsed(resolved);
  return 0;
}
