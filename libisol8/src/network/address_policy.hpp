// Which IP addresses isol8 connects to on a sandbox's behalf (egress proxy, remote code
// fetching): loopback, private, link-local, CGNAT, metadata, multicast and reserved addresses
// are refused, for IPv4 and IPv6 (including the IPv6 forms that embed an IPv4 address), unless
// an allowedAddresses CIDR exempts them. Pure code: no sockets, no name resolution.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

struct IpAddress {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};  // network order; an IPv4 address uses the first 4

  static IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static IpAddress ipv6(const std::array<std::uint8_t, 16>& bytes);
  std::string toString() const;  // 10.0.0.1, ::ffff:127.0.0.1, fe80::1 (no brackets)
  // ::ffff:a.b.c.d as the IPv4 address a.b.c.d; any other address unchanged.
  IpAddress unmapped() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Only the canonical dotted quad: four decimal parts 0-255 without leading zeros ("127.0.0.1";
// not "127.1", "0x7f.0.0.1", "0177.0.0.1" or "2130706433", which inet_aton and URL parsers
// would also take for 127.0.0.1).
std::optional<IpAddress> parseIpv4(std::string_view text);
// A bare IPv6 address ("::1", "::ffff:127.0.0.1"); no brackets, no zone ("fe80::1%eth0").
std::optional<IpAddress> parseIpv6(std::string_view text);
// An IP literal as it appears as a host: a canonical IPv4 address, a bare IPv6 address or a
// bracketed one ("[::1]").
std::optional<IpAddress> parseIpLiteral(std::string_view host);

// True when resolvers or URL parsers would read `host` as an IPv4 address in some form: its
// last dot-separated label is decimal digits or 0x-hex ("2130706433", "0x7f.1", "127.1",
// "1.2.3.4.5"). Such hosts must be refused unless parseIpv4 accepts them.
bool looksLikeIpv4Number(std::string_view host);

// The refused range `address` falls in, as a short description ("loopback 127.0.0.0/8",
// "IPv4-mapped: private 10.0.0.0/8"), or nullopt for a public address. IPv6 is refused outside
// global unicast 2000::/3, except that ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64) and
// 2002::/16 (6to4) are judged by the IPv4 address they embed.
std::optional<std::string> refusedRange(const IpAddress& address);

struct Cidr {
  IpAddress network;  // host bits cleared
  int prefix = 0;     // 0-32 for IPv4, 0-128 for IPv6
  bool contains(const IpAddress& address) const;  // an IPv4 CIDR also covers ::ffff:a.b.c.d
  std::string toString() const;
};

// "10.0.0.0/8", "fd00::/8", or a single address ("127.0.0.1" = /32, "::1" = /128). Host bits
// are cleared. Throws isol8::Error(invalid_request) naming the entry when it is not valid.
Cidr parseCidr(std::string_view text);

// The address rule of a policy: refusedRange, minus the exempt CIDRs.
class AddressPolicy {
 public:
  AddressPolicy() = default;
  explicit AddressPolicy(const std::vector<std::string>& allowedAddresses);  // throws as parseCidr
  // The addresses of this machine's interfaces: refused too ("address of this host"), whatever
  // their range, since services that listen on every interface answer there.
  void setLocalAddresses(std::vector<IpAddress> addresses);
  // nullopt: isol8 may connect to `address`; else why not (the refused range).
  std::optional<std::string> refusal(const IpAddress& address) const;

 private:
  std::vector<Cidr> exempt_;
  std::vector<IpAddress> local_;  // unmapped
};

}  // namespace isol8::detail
