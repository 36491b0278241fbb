// How the CLI talks to a person: [ERR]/[WARN]/[OK] lines on stderr, program output on stdout.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace isol8::cli {

inline void printError(std::string_view message) { fmt::print(stderr, "[ERR] {}\n", message); }
inline void printWarning(std::string_view message) { fmt::print(stderr, "[WARN] {}\n", message); }

// Writes bytes exactly (no added newline) and flushes, so streamed output appears at once.
inline void writeRaw(std::FILE* stream, std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stream);
  std::fflush(stream);
}

}  // namespace isol8::cli
