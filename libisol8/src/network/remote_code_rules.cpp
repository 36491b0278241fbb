#include "network/remote_code_rules.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "isol8/error.hpp"
#include "network/host_policy.hpp"
#include "util/text.hpp"

namespace isol8::detail {
namespace {

[[noreturn]] void refuse(const std::string& message) { throw Error(errc::invalid_request, message); }

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string blockedHostMessage(const ParsedUrl& url) { return fmt::format("Blocked code URL host: {}", url.host); }

}  // namespace

void checkRemoteCodeEnabled(const RemoteCodePolicy& policy, std::string_view url) {
  if (!policy.enabled) refuse("Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.");
  if (trim(url).empty()) refuse("codeUrl is required for remote code fetching");
}

ParsedUrl checkCodeUrl(const RemoteCodePolicy& policy, std::string_view text, bool allowInsecure) {
  ParsedUrl url = parseUrl(text);
  checkCodeUrlSchemeAndHost(policy, url, allowInsecure);
  return url;
}

void checkCodeUrlSchemeAndHost(const RemoteCodePolicy& policy, const ParsedUrl& url, bool allowInsecure) {
  if (url.scheme == "http" && !allowInsecure)
    refuse("Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.");
  const bool schemeAllowed = std::any_of(policy.allowedSchemes.begin(), policy.allowedSchemes.end(),
                                         [&](const std::string& s) { return lowerAscii(s) == url.scheme; });
  if (!schemeAllowed) refuse(fmt::format("URL scheme not allowed: {}", url.scheme));
  const HostPolicy hosts(policy.allowedHosts, policy.blockedHosts, "remoteCode.allowedHosts", "remoteCode.blockedHosts");
  // A name no resolver should see (odd characters, a numeric last label) is refused as well.
  if (!isValidHost(normalizeHost(url.host)) || !hosts.allows(url.host)) refuse(blockedHostMessage(url));
}

void checkCodeUrlAddresses(const RemoteCodePolicy& policy, const ParsedUrl& url,
                           const std::vector<IpAddress>& addresses) {
  if (addresses.empty())
    throw Error(errc::io_error, fmt::format("Failed to resolve code URL host: {}", url.host));
  const AddressPolicy rule(policy.allowedAddresses);
  for (const auto& address : addresses) {
    if (rule.refusal(address)) refuse(blockedHostMessage(url));
  }
}

void checkHashRequired(const RemoteCodePolicy& policy, std::string_view codeHash) {
  if (policy.requireHash && trim(codeHash).empty())
    refuse("Hash verification required: provide codeHash for remote code execution.");
}

std::string fetchTimedOutMessage(std::int64_t timeoutMs) {
  return fmt::format("Remote code fetch timed out after {}ms", timeoutMs);
}
std::string fetchFailedMessage(std::string_view why) { return fmt::format("Failed to fetch remote code: {}", why); }
std::string httpStatusMessage(int status) { return fmt::format("Failed to fetch remote code: HTTP {}", status); }
std::string contentLengthTooLargeMessage(std::int64_t max, std::uint64_t length) {
  return fmt::format("Remote code exceeds maxCodeSize ({} bytes): {} bytes", max, length);
}
std::string bodyTooLargeMessage(std::int64_t max) { return fmt::format("Remote code exceeds maxCodeSize ({} bytes)", max); }

std::string decodeFetchedCode(std::string body) {
  if (body.empty()) refuse("Remote code response body is empty");
  if (!isValidUtf8(body)) refuse("Fetched code is not valid UTF-8 text");
  if (body.starts_with("\xEF\xBB\xBF")) body.erase(0, 3);
  if (body.find('\0') != std::string::npos) refuse("Fetched code appears to be binary content");
  return body;
}

void checkCodeHash(std::string_view code, std::string_view codeHash) {
  if (codeHash.empty()) return;
  if (sha256Hex(code) != lowerAscii(codeHash)) refuse("Remote code hash mismatch");
}

std::string githubRawUrl(std::string_view spec) {
  const auto parts = split(spec, '/');
  const bool ok = parts.size() >= 4 && std::none_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (!ok) refuse("--github format must be owner/repo/ref/path/to/file");
  return fmt::format("https://raw.githubusercontent.com/{}", spec);
}

std::string gistRawUrl(std::string_view spec) {
  const auto parts = split(spec, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) refuse("--gist format must be gistId/file.ext");
  return fmt::format("https://gist.githubusercontent.com/{}/raw/{}", parts[0], parts[1]);
}

}  // namespace isol8::detail
