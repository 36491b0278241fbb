// Diagnostic lines go to stderr, so stdout carries only the program's output.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace isol8::detail {

inline std::atomic<bool>& debugEnabled() {
  static std::atomic<bool> enabled{false};
  return enabled;
}

template <typename... Args>
void debugLog(fmt::format_string<Args...> format, Args&&... args) {
  if (!debugEnabled()) return;
  std::string line = "[DEBUG] " + fmt::format(format, std::forward<Args>(args)...) + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace isol8::detail
