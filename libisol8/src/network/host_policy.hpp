// The host-name rule of a network policy: ECMAScript regular expressions, case-insensitive,
// searched anywhere in the host (anchor with ^ and $), deny list first. Pure code.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "isol8/network_policy.hpp"

namespace isol8::detail {

// ASCII lower-case, without one trailing dot ("Example.COM." -> "example.com"). Hosts are
// matched, logged and resolved in this form.
std::string normalizeHost(std::string_view host);

// A host isol8 is willing to resolve or connect to (after normalizeHost): a bracketed IPv6
// literal, a canonical dotted-quad IPv4 address, or a DNS name of at most 253 characters with
// labels of 1-63 letters, digits, '-' or '_' whose last label is not numeric (see
// looksLikeIpv4Number: "2130706433" and "0x7f.1" are refused, not resolved).
bool isValidHost(std::string_view host);

enum class HostVerdict {
  allowed,
  denied,       // matched a deny (blacklist) pattern
  not_allowed,  // the allow list (whitelist) is not empty and no pattern matched
};

class HostPolicy {
 public:
  HostPolicy() = default;  // allows every host
  // Throws isol8::Error(invalid_request) naming the first invalid pattern and its list.
  HostPolicy(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
             std::string_view allowName = "whitelist", std::string_view denyName = "blacklist");
  explicit HostPolicy(const NetworkFilter& filter) : HostPolicy(filter.whitelist, filter.blacklist) {}

  // `host` is normalized first. A host longer than 253 characters is never allowed. An IP
  // literal is matched as written and in its canonical form (canonicalIpHost): denied when
  // either matches a deny pattern, allowed when either matches an allow pattern.
  HostVerdict check(std::string_view host) const;
  bool allows(std::string_view host) const { return check(host) == HostVerdict::allowed; }

 private:
  std::vector<std::regex> allow_;
  std::vector<std::regex> deny_;
};

}  // namespace isol8::detail
