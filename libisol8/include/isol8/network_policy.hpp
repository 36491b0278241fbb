// Network policies: which hosts a sandbox may reach in filtered mode (through isol8's egress
// proxy) and where code may be fetched from (codeUrl). Patterns are ECMAScript regular
// expressions matched case-insensitively against the host name; the deny list wins.
// Loopback, private, link-local, CGNAT and metadata addresses are refused after name
// resolution unless listed in allowedAddresses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace isol8 {

struct NetworkFilter {
  std::vector<std::string> whitelist;  // empty: every host not blacklisted
  std::vector<std::string> blacklist;
  // CIDRs ("10.1.2.0/24", "127.0.0.1/32", "fd00::/8") exempt from the private-address refusal:
  // for an internal package mirror, or tests. Empty by default.
  std::vector<std::string> allowedAddresses;

  bool operator==(const NetworkFilter&) const = default;
};

struct RemoteCodePolicy {
  bool enabled = false;
  std::vector<std::string> allowedSchemes{"https"};
  std::vector<std::string> allowedHosts;  // patterns; empty allows every host not blocked
  std::vector<std::string> blockedHosts = defaultBlockedHosts();
  std::vector<std::string> allowedAddresses;  // as NetworkFilter::allowedAddresses
  std::int64_t maxCodeSize = 10485760;
  std::int64_t fetchTimeoutMs = 30000;
  bool requireHash = false;
  bool enableCache = true;
  std::int64_t cacheTtl = 3600;  // seconds
  // Loopback, private, link-local and cloud-metadata hosts (SSRF protection).
  static std::vector<std::string> defaultBlockedHosts();
};

}  // namespace isol8
