#include "network/address_policy.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace isol8::detail;
using isol8::errc;

namespace {

// The refused range of an address given as text ("" when public); fails on unparsable text.
std::string rangeOf(const std::string& text) {
  const auto address = parseIpLiteral(text);
  INFO(text);
  REQUIRE(address.has_value());
  return refusedRange(*address).value_or("");
}

bool refused(const std::string& text) { return !rangeOf(text).empty(); }

}  // namespace

TEST_CASE("parseIpv4: canonical dotted quads only", "[address_policy]") {
  CHECK(parseIpv4("127.0.0.1") == IpAddress::ipv4(127, 0, 0, 1));
  CHECK(parseIpv4("0.0.0.0") == IpAddress::ipv4(0, 0, 0, 0));
  CHECK(parseIpv4("255.255.255.255") == IpAddress::ipv4(255, 255, 255, 255));
  for (const char* bad : {"2130706433", "0x7f.1", "0x7f.0.0.1", "127.1", "127.0.1", "0177.0.0.1", "127.0.0.01",
                          "256.0.0.1", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4",
                          "+1.2.3.4", "1.2.3.1000", "", "a.b.c.d", "1.2.3.4/8"}) {
    INFO(bad);
    CHECK_FALSE(parseIpv4(bad).has_value());
  }
}

TEST_CASE("parseIpv6 and parseIpLiteral", "[address_policy]") {
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  CHECK(parseIpv6("::1") == IpAddress::ipv6(loopback));
  CHECK(parseIpLiteral("[::1]") == IpAddress::ipv6(loopback));
  CHECK(parseIpLiteral("::1") == IpAddress::ipv6(loopback));
  CHECK(parseIpLiteral("[0:0:0:0:0:0:0:1]") == IpAddress::ipv6(loopback));
  CHECK(parseIpLiteral("[::ffff:127.0.0.1]")->toString() == "::ffff:127.0.0.1");
  CHECK(parseIpLiteral("[::FFFF:7F00:1]")->toString() == "::ffff:127.0.0.1");
  CHECK(parseIpLiteral("[::ffff:127.0.0.1]")->unmapped() == IpAddress::ipv4(127, 0, 0, 1));
  CHECK(parseIpLiteral("10.1.2.3")->toString() == "10.1.2.3");
  CHECK(parseIpLiteral("2001:DB8::1")->toString() == "2001:db8::1");
  for (const char* bad : {"[::1", "::1]", "[]", "[127.0.0.1]", "fe80::1%eth0", "[fe80::1%25eth0]", ":::1", "1::2::3",
                          "[::ffff:127.1]", "[::ffff:0177.0.0.1]", "12345::", "example.com", "[example.com]"}) {
    INFO(bad);
    CHECK_FALSE(parseIpLiteral(bad).has_value());
  }
  CHECK_FALSE(parseIpv6(bytes("::1\0")).has_value());
}

TEST_CASE("looksLikeIpv4Number", "[address_policy]") {
  for (const char* numeric : {"2130706433", "0x7f.1", "0X7F000001", "127.1", "1.2.3.4", "1.2.3.4.5", "example.123",
                              "0x", "10.0.0.1."}) {
    INFO(numeric);
    CHECK(looksLikeIpv4Number(numeric));
  }
  for (const char* name : {"example.com", "123.example.com", "0x7f.example", "1e100", "x0", "0xg", "localhost", ""}) {
    INFO(name);
    CHECK_FALSE(looksLikeIpv4Number(name));
  }
}

TEST_CASE("refusedRange: every refused IPv4 range, with the addresses just outside", "[address_policy]") {
  struct Case {
    const char* first;
    const char* last;
    const char* before;  // just outside, below ("" none)
    const char* after;   // just outside, above ("" none)
    const char* name;
  };
  const Case cases[] = {
      {"0.0.0.0", "0.255.255.255", "", "1.0.0.0", "this network 0.0.0.0/8"},
      {"10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0", "private 10.0.0.0/8"},
      {"100.64.0.0", "100.127.255.255", "100.63.255.255", "100.128.0.0", "shared address space (CGNAT) 100.64.0.0/10"},
      {"127.0.0.0", "127.255.255.255", "126.255.255.255", "128.0.0.0", "loopback 127.0.0.0/8"},
      {"169.254.0.0", "169.254.255.255", "169.253.255.255", "169.255.0.0", "link-local 169.254.0.0/16"},
      {"172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0", "private 172.16.0.0/12"},
      {"192.168.0.0", "192.168.255.255", "192.167.255.255", "192.169.0.0", "private 192.168.0.0/16"},
      {"192.0.0.0", "192.0.0.255", "191.255.255.255", "192.0.1.0", "IETF protocol assignments 192.0.0.0/24"},
      {"198.18.0.0", "198.19.255.255", "198.17.255.255", "198.20.0.0", "benchmarking 198.18.0.0/15"},
      {"224.0.0.0", "239.255.255.255", "223.255.255.255", "", "multicast 224.0.0.0/4"},
      {"240.0.0.0", "255.255.255.254", "", "", "reserved 240.0.0.0/4"},
  };
  for (const auto& c : cases) {
    CHECK(rangeOf(c.first) == c.name);
    CHECK(rangeOf(c.last) == c.name);
    if (*c.before) CHECK(rangeOf(c.before) != c.name);
    if (*c.after) CHECK(rangeOf(c.after) != c.name);
  }
  CHECK(rangeOf("169.254.169.254") == "cloud metadata 169.254.169.254");
  CHECK(rangeOf("255.255.255.255") == "broadcast 255.255.255.255");
  // The controls above that are public.
  for (const char* pub : {"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
                          "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
                          "192.167.255.255", "192.169.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0",
                          "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0", "203.0.112.255",
                          "203.0.114.0", "223.255.255.255", "8.8.8.8", "1.1.1.1", "93.184.216.34",
                          // documentation ranges: not refused (see address_policy.cpp)
                          "192.0.2.1", "198.51.100.1", "203.0.113.80"}) {
    INFO(pub);
    CHECK_FALSE(refused(pub));
  }
}

TEST_CASE("refusedRange: IPv6", "[address_policy]") {
  CHECK(rangeOf("::") == "unspecified ::");
  CHECK(rangeOf("::1") == "loopback ::1");
  CHECK(rangeOf("::2") == "IPv4-compatible ::/96");
  CHECK(rangeOf("::ffff:ffff") == "IPv4-compatible ::/96");
  CHECK(rangeOf("::1:0:0") == "not global unicast (outside 2000::/3)");  // just above ::/96
  // Unique local fc00::/7, with the AWS metadata address fd00:ec2::254.
  CHECK(rangeOf("fc00::") == "unique local fc00::/7");
  CHECK(rangeOf("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == "unique local fc00::/7");
  CHECK(rangeOf("fd00:ec2::254") == "unique local fc00::/7");
  CHECK(rangeOf("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") != "unique local fc00::/7");
  CHECK(rangeOf("fe00::") != "unique local fc00::/7");
  // Link-local fe80::/10 and the deprecated site-local fec0::/10.
  CHECK(rangeOf("fe80::") == "link-local fe80::/10");
  CHECK(rangeOf("fe80::1") == "link-local fe80::/10");
  CHECK(rangeOf("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == "link-local fe80::/10");
  CHECK(rangeOf("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff") != "link-local fe80::/10");
  CHECK(rangeOf("fec0::") == "site-local fec0::/10");
  // Multicast ff00::/8.
  CHECK(rangeOf("ff00::") == "multicast ff00::/8");
  CHECK(rangeOf("ff02::1") == "multicast ff00::/8");
  CHECK(rangeOf("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") != "multicast ff00::/8");
  // Only global unicast 2000::/3 is reachable.
  CHECK(rangeOf("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == "not global unicast (outside 2000::/3)");
  CHECK(rangeOf("4000::") == "not global unicast (outside 2000::/3)");
  CHECK(rangeOf("100::1") == "not global unicast (outside 2000::/3)");  // discard prefix
  CHECK_FALSE(refused("2000::"));
  CHECK_FALSE(refused("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(refused("2606:4700:4700::1111"));
  CHECK_FALSE(refused("2a00:1450:4001:80b::200e"));
  // Protocol assignments and documentation inside 2000::/3.
  CHECK(rangeOf("2001::1") == "IETF protocol assignments 2001::/23");  // Teredo
  CHECK(rangeOf("2001:1ff:ffff::") == "IETF protocol assignments 2001::/23");
  CHECK_FALSE(refused("2001:200::"));
  CHECK_FALSE(refused("2001:db8::1"));  // documentation: not refused (see address_policy.cpp)
}

TEST_CASE("refusedRange: IPv6 forms that embed an IPv4 address use the IPv4 rules", "[address_policy]") {
  // IPv4-mapped ::ffff:0:0/96.
  CHECK(rangeOf("::ffff:127.0.0.1") == "IPv4-mapped: loopback 127.0.0.0/8");
  CHECK(rangeOf("::ffff:7f00:1") == "IPv4-mapped: loopback 127.0.0.0/8");
  CHECK(rangeOf("::ffff:169.254.169.254") == "IPv4-mapped: cloud metadata 169.254.169.254");
  CHECK(rangeOf("::ffff:10.0.0.1") == "IPv4-mapped: private 10.0.0.0/8");
  CHECK(rangeOf("::ffff:0.0.0.0") == "IPv4-mapped: this network 0.0.0.0/8");
  CHECK_FALSE(refused("::ffff:8.8.8.8"));
  CHECK(rangeOf("::fffe:127.0.0.1") == "not global unicast (outside 2000::/3)");  // not mapped: just below
  // NAT64 64:ff9b::/96.
  CHECK(rangeOf("64:ff9b::127.0.0.1") == "NAT64 64:ff9b::/96: loopback 127.0.0.0/8");
  CHECK(rangeOf("64:ff9b::a9fe:a9fe") == "NAT64 64:ff9b::/96: cloud metadata 169.254.169.254");
  CHECK(rangeOf("64:ff9b::192.168.1.1") == "NAT64 64:ff9b::/96: private 192.168.0.0/16");
  CHECK_FALSE(refused("64:ff9b::8.8.8.8"));
  CHECK(rangeOf("64:ff9b:0:0:0:1:808:808") == "not global unicast (outside 2000::/3)");  // outside /96
  // 6to4 2002::/16: bits 16-47.
  CHECK(rangeOf("2002:7f00:1::") == "6to4 2002::/16: loopback 127.0.0.0/8");
  CHECK(rangeOf("2002:a00:1::1") == "6to4 2002::/16: private 10.0.0.0/8");
  CHECK(rangeOf("2002:a9fe:a9fe::") == "6to4 2002::/16: cloud metadata 169.254.169.254");
  CHECK_FALSE(refused("2002:808:808::1"));
  CHECK_FALSE(refused("2003:7f00:1::"));  // just above 2002::/16: plain global unicast
  CHECK_FALSE(refused("2001:ffff:7f00:1::"));
}

TEST_CASE("parseCidr", "[address_policy]") {
  CHECK(parseCidr("10.0.0.0/8").toString() == "10.0.0.0/8");
  CHECK(parseCidr("10.1.2.3/8").toString() == "10.0.0.0/8");  // host bits cleared
  CHECK(parseCidr("127.0.0.1").toString() == "127.0.0.1/32");
  CHECK(parseCidr("::1").toString() == "::1/128");
  CHECK(parseCidr("fd00::/8").toString() == "fd00::/8");
  CHECK(parseCidr("fdff::1/8").toString() == "fd00::/8");
  CHECK(parseCidr("0.0.0.0/0").toString() == "0.0.0.0/0");
  CHECK(parseCidr("::/0").toString() == "::/0");
  CHECK(parseCidr("172.16.0.0/12").toString() == "172.16.0.0/12");
  CHECK(parseCidr("192.168.1.128/25").toString() == "192.168.1.128/25");
  CHECK(parseCidr("::ffff:10.0.0.0/104").toString() == "10.0.0.0/8");  // IPv4-mapped: an IPv4 range
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0/8",
                          "10.0.0.0/8/8", "[::1]", "example.com", "10.0.0.0 /8", "2130706433/32"}) {
    INFO(bad);
    REQUIRE_ISOL8_ERROR(parseCidr(bad), errc::invalid_request,
                        std::string("Invalid allowedAddresses entry \"") + bad +
                            "\": expected an IP address or a CIDR such as 10.0.0.0/8 or fd00::/8");
  }
}

TEST_CASE("Cidr::contains", "[address_policy]") {
  const Cidr ten = parseCidr("10.0.0.0/8");
  CHECK(ten.contains(*parseIpLiteral("10.255.0.1")));
  CHECK_FALSE(ten.contains(*parseIpLiteral("11.0.0.0")));
  CHECK(ten.contains(*parseIpLiteral("::ffff:10.1.1.1")));  // the same destination
  CHECK_FALSE(ten.contains(*parseIpLiteral("64:ff9b::10.1.1.1")));
  CHECK_FALSE(ten.contains(*parseIpLiteral("a00:1::")));
  const Cidr slash25 = parseCidr("192.168.1.128/25");
  CHECK(slash25.contains(*parseIpLiteral("192.168.1.200")));
  CHECK_FALSE(slash25.contains(*parseIpLiteral("192.168.1.127")));
  const Cidr ula = parseCidr("fd00::/8");
  CHECK(ula.contains(*parseIpLiteral("fd12::1")));
  CHECK_FALSE(ula.contains(*parseIpLiteral("fc00::1")));
  CHECK_FALSE(ula.contains(*parseIpLiteral("10.0.0.1")));
  CHECK(parseCidr("0.0.0.0/0").contains(*parseIpLiteral("127.0.0.1")));
  CHECK(parseCidr("::/0").contains(*parseIpLiteral("::1")));
}

TEST_CASE("AddressPolicy: refused ranges minus the exempt CIDRs", "[address_policy]") {
  const AddressPolicy none;
  CHECK(none.refusal(*parseIpLiteral("127.0.0.1")) == "loopback 127.0.0.0/8");
  CHECK_FALSE(none.refusal(*parseIpLiteral("8.8.8.8")).has_value());

  const AddressPolicy policy({"127.0.0.1/32", "10.1.0.0/16", "fd00:1::/32"});
  CHECK_FALSE(policy.refusal(*parseIpLiteral("127.0.0.1")).has_value());
  CHECK_FALSE(policy.refusal(*parseIpLiteral("::ffff:127.0.0.1")).has_value());
  CHECK(policy.refusal(*parseIpLiteral("127.0.0.2")) == "loopback 127.0.0.0/8");
  CHECK(policy.refusal(*parseIpLiteral("::1")) == "loopback ::1");
  CHECK_FALSE(policy.refusal(*parseIpLiteral("10.1.255.255")).has_value());
  CHECK(policy.refusal(*parseIpLiteral("10.2.0.0")) == "private 10.0.0.0/8");
  CHECK_FALSE(policy.refusal(*parseIpLiteral("fd00:1::5")).has_value());
  CHECK(policy.refusal(*parseIpLiteral("fd00:2::5")) == "unique local fc00::/7");
  CHECK(policy.refusal(*parseIpLiteral("169.254.169.254")) == "cloud metadata 169.254.169.254");

  REQUIRE_ISOL8_ERROR(AddressPolicy({"10.0.0.0/8", "nope"}), errc::invalid_request,
                      "Invalid allowedAddresses entry \"nope\": expected an IP address or a CIDR such as 10.0.0.0/8 "
                      "or fd00::/8");
}

TEST_CASE("AddressPolicy: the machine's own addresses are refused too", "[address_policy]") {
  AddressPolicy policy({"203.0.113.0/24"});
  policy.setLocalAddresses({*parseIpLiteral("8.8.4.4"), *parseIpLiteral("2a00:1450::1"), *parseIpLiteral("203.0.113.9")});
  CHECK(policy.refusal(*parseIpLiteral("8.8.4.4")) == "address of this host");
  CHECK(policy.refusal(*parseIpLiteral("::ffff:8.8.4.4")) == "address of this host");
  CHECK(policy.refusal(*parseIpLiteral("2a00:1450::1")) == "address of this host");
  CHECK_FALSE(policy.refusal(*parseIpLiteral("8.8.8.8")).has_value());
  CHECK_FALSE(policy.refusal(*parseIpLiteral("203.0.113.9")).has_value());  // exempt on purpose
}
