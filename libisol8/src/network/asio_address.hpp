// Conversions between Asio's IP addresses and the policy code's IpAddress (which stays free
// of Asio so it can be unit tested alone).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include <boost/asio/ip/address.hpp>

#include "network/address_policy.hpp"

namespace isol8::detail {

inline IpAddress fromAsio(const boost::asio::ip::address& address) {
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    return IpAddress::ipv4(b[0], b[1], b[2], b[3]);
  }
  const auto b = address.to_v6().to_bytes();
  std::array<std::uint8_t, 16> bytes{};
  std::copy(b.begin(), b.end(), bytes.begin());
  return IpAddress::ipv6(bytes);
}

inline boost::asio::ip::address toAsio(const IpAddress& address) {
  namespace ip = boost::asio::ip;
  if (address.v4) {
    return ip::address_v4(ip::address_v4::bytes_type{address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  ip::address_v6::bytes_type bytes{};
  std::copy(address.bytes.begin(), address.bytes.end(), bytes.begin());
  return ip::address_v6(bytes);
}

}  // namespace isol8::detail
