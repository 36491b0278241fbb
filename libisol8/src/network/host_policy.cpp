#include "network/host_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "isol8/error.hpp"
#include "network/address_policy.hpp"
#include "network/url.hpp"

namespace isol8::detail {

namespace {

constexpr std::size_t kMaxHostLength = 253;

std::vector<std::regex> compile(const std::vector<std::string>& patterns, std::string_view listName) {
  std::vector<std::regex> compiled;
  compiled.reserve(patterns.size());
  for (const auto& pattern : patterns) {
    try {
      compiled.emplace_back(pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      throw Error(errc::invalid_request, fmt::format("Invalid {} pattern \"{}\": {}", listName, pattern, e.what()));
    }
  }
  return compiled;
}

bool anyMatch(const std::vector<std::regex>& patterns, const std::string& host) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::regex& pattern) { return std::regex_search(host, pattern); });
}

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string normalizeHost(std::string_view host) {
  std::string out(host);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool isValidHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  if (host.front() == '[') return host.back() == ']' && parseIpLiteral(host).has_value();
  if (parseIpv4(host)) return true;
  if (looksLikeIpv4Number(host)) return false;
  std::size_t labelLength = 0;
  for (char c : host) {
    if (c == '.') {
      if (labelLength == 0) return false;
      labelLength = 0;
    } else if (isLabelChar(c)) {
      if (++labelLength > 63) return false;
    } else {
      return false;
    }
  }
  return labelLength > 0;
}

HostPolicy::HostPolicy(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                       std::string_view allowName, std::string_view denyName)
    : allow_(compile(allow, allowName)), deny_(compile(deny, denyName)) {}

HostVerdict HostPolicy::check(std::string_view host) const {
  const std::string normalized = normalizeHost(host);
  // Also bounds std::regex's recursion, which grows with the subject's length.
  if (normalized.size() > kMaxHostLength) return HostVerdict::not_allowed;
  // An IP literal is judged in both spellings, so "[::ffff:127.0.0.1]" or "2130706433" cannot
  // slip past a pattern written for "127.0.0.1": a deny match on either denies, an allow
  // match on either allows.
  std::vector<std::string> forms{normalized};
  if (auto canonical = canonicalIpHost(normalized); canonical && *canonical != normalized)
    forms.push_back(std::move(*canonical));
  const auto matches = [&](const std::vector<std::regex>& patterns) {
    return std::any_of(forms.begin(), forms.end(), [&](const std::string& form) { return anyMatch(patterns, form); });
  };
  if (matches(deny_)) return HostVerdict::denied;
  if (allow_.empty() || matches(allow_)) return HostVerdict::allowed;
  return HostVerdict::not_allowed;
}

}  // namespace isol8::detail
