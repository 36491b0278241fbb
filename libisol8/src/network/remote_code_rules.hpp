// The pure rules of remote code fetching (codeUrl): every check that needs no network, with
// the messages users see, in the order fetchRemoteCode (network/remote_code.hpp) applies them:
//   1. policy disabled   Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.
//   2. no URL            codeUrl is required for remote code fetching
//   3. not a URL         Invalid URL: <url>
//   4. http, no opt-in   Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.
//   5. scheme            URL scheme not allowed: <scheme>
//   6. host lists        Blocked code URL host: <host>
//   7. addresses         Blocked code URL host: <host>   (private/loopback/... not in allowedAddresses)
//                        Failed to resolve code URL host: <host>
//   8. requireHash       Hash verification required: provide codeHash for remote code execution.
//   9. the fetch         Remote code fetch timed out after <n>ms / Failed to fetch remote code: <why>
//                        Failed to fetch remote code: HTTP <status>
//  10. size              Remote code exceeds maxCodeSize (<max> bytes): <n> bytes   (Content-Length)
//                        Remote code exceeds maxCodeSize (<max> bytes)              (while reading)
//  11. body              Remote code response body is empty
//                        Fetched code is not valid UTF-8 text
//                        Fetched code appears to be binary content                 (a NUL byte)
//  12. hash              Remote code hash mismatch
// Steps 4-7 are applied again to every redirect hop before it is contacted.
// All throw isol8::Error: invalid_request for refusals, io_error for network failures.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isol8/network_policy.hpp"
#include "network/address_policy.hpp"
#include "network/url.hpp"

namespace isol8::detail {

// Steps 1-2.
void checkRemoteCodeEnabled(const RemoteCodePolicy& policy, std::string_view url);
// Steps 3-6 for the first URL.
ParsedUrl checkCodeUrl(const RemoteCodePolicy& policy, std::string_view url, bool allowInsecure);
// Steps 4-6 for a parsed URL (the first one or a redirect target).
void checkCodeUrlSchemeAndHost(const RemoteCodePolicy& policy, const ParsedUrl& url, bool allowInsecure);
// Step 7: the addresses the host resolved to (or its literal address) must all be public or
// inside policy.allowedAddresses. An empty list means resolution failed.
void checkCodeUrlAddresses(const RemoteCodePolicy& policy, const ParsedUrl& url,
                           const std::vector<IpAddress>& addresses);
// Step 8.
void checkHashRequired(const RemoteCodePolicy& policy, std::string_view codeHash);

// Messages of the fetch itself (step 9-10).
std::string fetchTimedOutMessage(std::int64_t timeoutMs);
std::string fetchFailedMessage(std::string_view why);
std::string httpStatusMessage(int status);
std::string contentLengthTooLargeMessage(std::int64_t max, std::uint64_t length);
std::string bodyTooLargeMessage(std::int64_t max);

// Steps 11-12: the body as code text (a leading UTF-8 BOM dropped), checked against
// codeHash (hex SHA-256 of the text, any case) when one is given.
std::string decodeFetchedCode(std::string body);
void checkCodeHash(std::string_view code, std::string_view codeHash);

// Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF): isValidUtf8 in
// util/text.hpp.

// CLI shorthands. Throw Error(invalid_request):
//   --github format must be owner/repo/ref/path/to/file
//   --gist format must be gistId/file.ext
// "owner/repo/ref/path/to/file" → https://raw.githubusercontent.com/owner/repo/ref/path/to/file
std::string githubRawUrl(std::string_view spec);
// "gistId/file.ext" → https://gist.githubusercontent.com/gistId/raw/file.ext
std::string gistRawUrl(std::string_view spec);

}  // namespace isol8::detail
