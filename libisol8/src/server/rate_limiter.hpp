// server.rateLimitPerMinute: requests per API key, as a token bucket per key that holds up to
// a minute's worth and refills evenly, so a key may burst its whole minute at once but never
// sustain more. Pure logic (the clock is a parameter), on the server's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace isol8::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // perMinute 0: no limit.
  explicit RateLimiter(std::int64_t perMinute) : perMinute_(perMinute) {}

  // 0 when `key` may make one more request now (counted); else the whole seconds until it
  // may (what Retry-After says).
  std::int64_t admit(const std::string& key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  std::int64_t perMinute_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace isol8::server
