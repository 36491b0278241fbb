// The engine's diagnostic lines, for a host program that wants them (EngineOptions::logSink).
#pragma once

#include <functional>
#include <string_view>

namespace isol8 {

// debug: what the engine is doing ("container 1a2b3c4d5e6f started (isol8:python)").
// warning: something failed that the engine worked around (a removal to be retried, a pooled
// container replaced).
enum class LogLevel { debug, warning };

// Receives one line at a time, without a trailing newline. Called on the engine's threads, so
// it must be thread safe when several engines share it; it should return quickly and not throw.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

const char* toString(LogLevel level);  // "debug", "warning"

}  // namespace isol8
