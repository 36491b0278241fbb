#include "network/address_policy.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "isol8/error.hpp"

namespace isol8::detail {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The rules for an IPv4 address (also applied to the IPv4 address embedded in IPv6 forms).
std::optional<std::string> refusedIpv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  if (a == 0) return "this network 0.0.0.0/8";
  if (a == 10) return "private 10.0.0.0/8";
  if (a == 100 && (b & 0xC0) == 64) return "shared address space (CGNAT) 100.64.0.0/10";
  if (a == 127) return "loopback 127.0.0.0/8";
  if (a == 169 && b == 254) {
    if (c == 169 && d == 254) return "cloud metadata 169.254.169.254";
    return "link-local 169.254.0.0/16";
  }
  if (a == 172 && (b & 0xF0) == 16) return "private 172.16.0.0/12";
  if (a == 192 && b == 168) return "private 192.168.0.0/16";
  if (a == 192 && b == 0 && c == 0) return "IETF protocol assignments 192.0.0.0/24";
  if (a == 198 && (b & 0xFE) == 18) return "benchmarking 198.18.0.0/15";
  // The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are
  // not refused: nothing on the internet answers there, so they lead to no one's private
  // network, and some sandboxed networks (this project's CI machines among them) resolve
  // public names to an egress gateway inside them.
  if ((a & 0xF0) == 224) return "multicast 224.0.0.0/4";
  if (a == 255 && b == 255 && c == 255 && d == 255) return "broadcast 255.255.255.255";
  if ((a & 0xF0) == 240) return "reserved 240.0.0.0/4";
  return std::nullopt;
}

std::optional<std::string> embedded(const char* form, const std::uint8_t* v4) {
  auto inner = refusedIpv4(v4[0], v4[1], v4[2], v4[3]);
  if (!inner) return std::nullopt;
  return fmt::format("{}: {}", form, *inner);
}

bool allZero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t x) { return x == 0; });
}

std::optional<std::string> refusedIpv6(const std::array<std::uint8_t, 16>& b) {
  const std::uint8_t* p = b.data();
  // ::ffff:0:0/96: the IPv4 address itself, as seen through a dual-stack socket.
  if (allZero(p, 10) && b[10] == 0xff && b[11] == 0xff) return embedded("IPv4-mapped", p + 12);
  // 64:ff9b::/96: a NAT64 gateway forwards it to the embedded IPv4 address.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && allZero(p + 4, 8)) {
    return embedded("NAT64 64:ff9b::/96", p + 12);
  }
  // 2002::/16: 6to4 relays forward it to the IPv4 address in bits 16-47.
  if (b[0] == 0x20 && b[1] == 0x02) return embedded("6to4 2002::/16", p + 2);
  if (allZero(p, 15) && b[15] == 0) return "unspecified ::";
  if (allZero(p, 15) && b[15] == 1) return "loopback ::1";
  if (allZero(p, 12)) return "IPv4-compatible ::/96";
  if ((b[0] & 0xFE) == 0xFC) return "unique local fc00::/7";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "link-local fe80::/10";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return "site-local fec0::/10";
  if (b[0] == 0xFF) return "multicast ff00::/8";
  if ((b[0] & 0xE0) != 0x20) return "not global unicast (outside 2000::/3)";
  // Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID and other protocol assignments.
  if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xFE) == 0x00) return "IETF protocol assignments 2001::/23";
  return std::nullopt;
}

bool prefixEqual(const std::uint8_t* a, const std::uint8_t* b, int bits) {
  int i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

IpAddress IpAddress::ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.v4 = true;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

IpAddress IpAddress::ipv6(const std::array<std::uint8_t, 16>& bytes) {
  IpAddress address;
  address.v4 = false;
  address.bytes = bytes;
  return address;
}

std::string IpAddress::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text) == nullptr) return "?";
  return text;
}

IpAddress IpAddress::unmapped() const {
  if (v4 || !allZero(bytes.data(), 10) || bytes[10] != 0xff || bytes[11] != 0xff) return *this;
  return ipv4(bytes[12], bytes[13], bytes[14], bytes[15]);
}

std::optional<IpAddress> parseIpv4(std::string_view text) {
  std::array<std::uint8_t, 4> parts{};
  std::size_t part = 0;
  std::size_t pos = 0;
  for (;;) {
    if (part == 4) return std::nullopt;
    std::size_t end = pos;
    while (end < text.size() && isDigit(text[end])) ++end;
    const std::size_t digits = end - pos;
    if (digits == 0 || digits > 3) return std::nullopt;
    if (digits > 1 && text[pos] == '0') return std::nullopt;  // octal in inet_aton
    int value = 0;
    for (std::size_t i = pos; i < end; ++i) value = value * 10 + (text[i] - '0');
    if (value > 255) return std::nullopt;
    parts[part++] = static_cast<std::uint8_t>(value);
    if (end == text.size()) break;
    if (text[end] != '.') return std::nullopt;
    pos = end + 1;
  }
  if (part != 4) return std::nullopt;
  return IpAddress::ipv4(parts[0], parts[1], parts[2], parts[3]);
}

std::optional<IpAddress> parseIpv6(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  for (char c : text) {
    if (!isHexDigit(c) && c != ':' && c != '.') return std::nullopt;  // also NUL and "%zone"
  }
  const std::string copy(text);
  std::array<std::uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return IpAddress::ipv6(bytes);
}

std::optional<IpAddress> parseIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return parseIpv6(host.substr(1, host.size() - 2));
  if (host.find(':') != std::string_view::npos) return parseIpv6(host);
  return parseIpv4(host);
}

bool looksLikeIpv4Number(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), isDigit)) return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    return std::all_of(last.begin() + 2, last.end(), isHexDigit);
  }
  return false;
}

std::optional<std::string> refusedRange(const IpAddress& address) {
  if (address.v4) return refusedIpv4(address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]);
  return refusedIpv6(address.bytes);
}

bool Cidr::contains(const IpAddress& address) const {
  const IpAddress candidate = network.v4 ? address.unmapped() : address;
  if (candidate.v4 != network.v4) return false;
  return prefixEqual(candidate.bytes.data(), network.bytes.data(), prefix);
}

std::string Cidr::toString() const { return fmt::format("{}/{}", network.toString(), prefix); }

Cidr parseCidr(std::string_view text) {
  const auto invalid = [&] {
    return Error(errc::invalid_request,
                 fmt::format("Invalid allowedAddresses entry \"{}\": expected an IP address or a CIDR such as "
                             "10.0.0.0/8 or fd00::/8",
                             text));
  };
  std::string_view addressText = text;
  std::optional<int> prefix;
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    addressText = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), isDigit)) throw invalid();
    if (digits.size() > 1 && digits[0] == '0') throw invalid();
    int value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    prefix = value;
  }
  std::optional<IpAddress> address = addressText.find(':') != std::string_view::npos ? parseIpv6(addressText)
                                                                                     : parseIpv4(addressText);
  if (!address) throw invalid();
  Cidr cidr;
  cidr.network = *address;
  cidr.prefix = prefix.value_or(address->v4 ? 32 : 128);
  if (cidr.prefix > (address->v4 ? 32 : 128)) throw invalid();
  // ::ffff:a.b.c.d/n (n >= 96) is the IPv4 range a.b.c.d/(n - 96).
  if (!address->v4 && cidr.prefix >= 96 && address->unmapped().v4) {
    cidr.network = address->unmapped();
    cidr.prefix -= 96;
  }
  const int width = cidr.network.v4 ? 4 : 16;
  for (int i = 0; i < width; ++i) {
    const int bitsHere = std::clamp(cidr.prefix - i * 8, 0, 8);
    cidr.network.bytes[i] &= static_cast<std::uint8_t>(bitsHere == 0 ? 0 : 0xFF << (8 - bitsHere));
  }
  return cidr;
}

AddressPolicy::AddressPolicy(const std::vector<std::string>& allowedAddresses) {
  for (const auto& entry : allowedAddresses) exempt_.push_back(parseCidr(entry));
}

void AddressPolicy::setLocalAddresses(std::vector<IpAddress> addresses) {
  for (auto& address : addresses) address = address.unmapped();
  local_ = std::move(addresses);
}

std::optional<std::string> AddressPolicy::refusal(const IpAddress& address) const {
  auto range = refusedRange(address);
  if (!range && std::find(local_.begin(), local_.end(), address.unmapped()) != local_.end()) {
    range = "address of this host";
  }
  if (!range) return std::nullopt;
  for (const auto& cidr : exempt_) {
    if (cidr.contains(address)) return std::nullopt;
  }
  return range;
}

}  // namespace isol8::detail
