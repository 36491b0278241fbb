// Config discovery and the defaults that are not plain member initializers.
#include "isol8/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "isol8/error.hpp"

namespace isol8 {

namespace fs = std::filesystem;

std::vector<std::string> RemoteCodePolicy::defaultBlockedHosts() {
  return {
      R"(^localhost$)",
      R"(^127(?:\.[0-9]{1,3}){3}$)",
      R"(^\[::1\]$)",
      R"(^::1$)",
      R"(^10(?:\.[0-9]{1,3}){3}$)",
      R"(^172\.(?:1[6-9]|2[0-9]|3[0-1])(?:\.[0-9]{1,3}){2}$)",
      R"(^192\.168(?:\.[0-9]{1,3}){2}$)",
      R"(^169\.254(?:\.[0-9]{1,3}){2}$)",
      R"(^metadata\.google\.internal$)",
      R"(^169\.254\.169\.254$)",
  };
}

namespace {

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(errc::io_error, fmt::format("Cannot read config file {}: {}", path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Config loadConfig(const fs::path& cwd) {
  std::vector<fs::path> candidates{cwd / "isol8.config.json"};
  if (const char* home = std::getenv("HOME"); home && *home) candidates.push_back(fs::path(home) / ".isol8" / "config.json");
  for (const auto& path : candidates) {
    std::error_code ec;
    // The first file that exists wins; the files are never merged with each other.
    if (fs::exists(path, ec)) return parseConfig(readFile(path), path.string());
  }
  return Config{};
}

EngineOptions engineOptionsFrom(const Config& config) {
  EngineOptions options;
  options.timeoutMs = config.defaults.timeoutMs;
  options.memoryLimit = config.defaults.memoryLimit;
  options.cpuLimit = config.defaults.cpuLimit;
  options.network = config.defaults.network;
  options.networkFilter = config.network;
  options.sandboxSize = config.defaults.sandboxSize;
  options.tmpSize = config.defaults.tmpSize;
  options.maxFileSize = config.defaults.maxFileSize;
  options.security = config.security;
  options.poolStrategy = config.poolStrategy;
  options.poolSize = config.poolSize;
  options.maxConcurrent = config.maxConcurrent;
  options.debug = config.debug;
  options.remoteCode = config.remoteCode;
  options.registries = config.registries;
  options.dockerTimeoutMs = config.docker.timeoutMs;
  options.removalRetryMs = config.cleanup.removalRetryMs;
  options.removalRetryMaxMs = config.cleanup.removalRetryMaxMs;
  return options;
}

}  // namespace isol8
