// Where one engine's diagnostic lines go (EngineOptions::logSink and debug): each engine makes
// its own Logger and hands it to the objects that log, so two engines in one process log
// independently. A Logger nobody listens to formats nothing.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "isol8/log.hpp"

namespace isol8::detail {

class Logger {
 public:
  Logger() = default;  // silent
  // The host's sink when there is one; else, with `debug`, lines on stderr ("[DEBUG] ...",
  // "[WARN] ..."), so stdout carries only the program's output; else silent.
  Logger(bool debug, LogSink sink) {
    if (sink) sink_ = std::make_shared<const LogSink>(std::move(sink));
    else if (debug) sink_ = std::make_shared<const LogSink>(&writeToStderr);
  }

  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    if (sink_) emit(LogLevel::debug, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warning(fmt::format_string<Args...> format, Args&&... args) const {
    if (sink_) emit(LogLevel::warning, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  void emit(LogLevel level, const std::string& line) const {
    try {
      (*sink_)(level, line);
    } catch (...) {
      // A host's sink that throws must not break the run that logged.
    }
  }
  static void writeToStderr(LogLevel level, std::string_view line) {
    std::string text = fmt::format("{}{}\n", level == LogLevel::warning ? "[WARN] " : "[DEBUG] ", line);
    std::fputs(text.c_str(), stderr);
  }

  std::shared_ptr<const LogSink> sink_;  // null: nobody listens
};

}  // namespace isol8::detail
