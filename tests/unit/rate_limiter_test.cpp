#include <catch2/catch.hpp>

#include "server/rate_limiter.hpp"

using isol8::server::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: a minute's worth at once, then one more is told when", "[unit][server]") {
  RateLimiter limiter(6);  // one token every 10 s
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 6; ++i) CHECK(limiter.admit("k", t0) == 0);
  CHECK(limiter.admit("k", t0) == 10);
  CHECK(limiter.admit("k", t0 + 4s) == 6);
  CHECK(limiter.admit("k", t0 + 10s) == 0);  // one token back
  CHECK(limiter.admit("k", t0 + 10s) == 10);
}

TEST_CASE("rate limiter: keys are counted apart; 0 is no limit", "[unit][server]") {
  RateLimiter limiter(1);
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  CHECK(limiter.admit("a", t0) == 0);
  CHECK(limiter.admit("a", t0) == 60);
  CHECK(limiter.admit("b", t0) == 0);
  RateLimiter none(0);
  for (int i = 0; i < 1000; ++i) CHECK(none.admit("a", t0) == 0);
}

TEST_CASE("rate limiter: a refilled bucket never holds more than a minute's worth", "[unit][server]") {
  RateLimiter limiter(2);
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  CHECK(limiter.admit("k", t0) == 0);
  const auto later = t0 + 24h;
  CHECK(limiter.admit("k", later) == 0);
  CHECK(limiter.admit("k", later) == 0);
  CHECK(limiter.admit("k", later) == 30);
}
