#include <catch2/catch.hpp>

#include "server/admission.hpp"

using isol8::server::ByteBudget;
using isol8::server::ConnectionLimiter;

TEST_CASE("connection limiter: per address and in total, tickets give their place back", "[unit][server]") {
  ConnectionLimiter limiter(3, 2);
  auto a1 = limiter.admit("a");
  auto a2 = limiter.admit("a");
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK_FALSE(limiter.admit("a"));  // past the per-address cap
  auto b1 = limiter.admit("b");
  REQUIRE(b1);
  CHECK_FALSE(limiter.admit("c"));  // past the total
  CHECK(limiter.open() == 3);
  a1.reset();
  CHECK(limiter.open() == 2);
  CHECK(limiter.admit("a"));  // admitted, then given back at once
  CHECK(limiter.open() == 2);
}

TEST_CASE("byte budget: at the capacity, not past it", "[unit][server]") {
  ByteBudget budget(100);
  auto sixty = budget.take(60);
  REQUIRE(sixty);
  CHECK_FALSE(budget.take(41));
  {
    auto forty = budget.take(40);
    CHECK(forty);
    CHECK(budget.used() == 100);
  }
  CHECK(budget.used() == 60);
  CHECK_FALSE(budget.take(~0ull));
}
