#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace isol8::server {

namespace {
// Buckets of keys unseen for long are full again: forgetting them changes nothing. Looked for
// only when the map is this big, so the cost stays off the common path.
constexpr std::size_t kSweepAbove = 4096;
}  // namespace

std::int64_t RateLimiter::admit(const std::string& key, Clock::time_point now) {
  if (perMinute_ <= 0) return 0;
  const double capacity = static_cast<double>(perMinute_);
  const double perSecond = capacity / 60.0;
  auto refill = [&](Bucket& b) {
    const double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(capacity, b.tokens + std::max(0.0, seconds) * perSecond);
    b.updated = now;
  };
  if (buckets_.size() > kSweepAbove) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second);
      it = it->second.tokens >= capacity ? buckets_.erase(it) : std::next(it);
    }
  }
  const auto [it, fresh] = buckets_.try_emplace(key, Bucket{capacity, now});
  Bucket& bucket = it->second;
  if (!fresh) refill(bucket);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1.0 - bucket.tokens) / perSecond)));
}

}  // namespace isol8::server
