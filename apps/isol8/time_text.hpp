// Times as the CLI shows and reads them.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace isol8::cli {

// "2026-03-01 13:00:00" in the local time zone.
inline std::string localTime(std::int64_t unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  return std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm) ? text : "";
}

// The server's timestamps, JavaScript's toISOString form (2026-03-01T12:00:00.000Z), to
// seconds since the epoch; nullopt when unreadable.
inline std::optional<std::int64_t> unixSecondsOfIso(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace isol8::cli
