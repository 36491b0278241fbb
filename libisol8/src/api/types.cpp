#include "isol8/log.hpp"
#include "isol8/options.hpp"
#include "isol8/types.hpp"
#include "isol8/version.hpp"

namespace isol8 {

const char* toString(StreamEvent::Type type) {
  switch (type) {
    case StreamEvent::Type::stdout_data: return "stdout";
    case StreamEvent::Type::stderr_data: return "stderr";
    case StreamEvent::Type::exit: return "exit";
    case StreamEvent::Type::error: return "error";
  }
  return "error";
}

const char* toString(LogLevel level) { return level == LogLevel::warning ? "warning" : "debug"; }

const char* toString(StreamEvent::Phase phase) { return phase == StreamEvent::Phase::setup ? "setup" : "code"; }

PackageRegistries defaultPackageRegistries() {
  return {{"python", {"pypi.org", "files.pythonhosted.org"}},
          {"node", {"registry.npmjs.org"}},
          {"bun", {"registry.npmjs.org"}},
          {"deno", {"jsr.io", "registry.npmjs.org"}},
          {"bash", {}}};
}

std::optional<NetworkMode> parseNetworkMode(const std::string& text) {
  if (text == "none") return NetworkMode::none;
  if (text == "host") return NetworkMode::host;
  if (text == "filtered") return NetworkMode::filtered;
  return std::nullopt;
}

const char* toString(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::none: return "none";
    case NetworkMode::host: return "host";
    case NetworkMode::filtered: return "filtered";
  }
  return "none";
}

std::optional<PoolStrategy> parsePoolStrategy(const std::string& text) {
  if (text == "fast") return PoolStrategy::fast;
  if (text == "secure") return PoolStrategy::secure;
  return std::nullopt;
}

const char* toString(PoolStrategy strategy) { return strategy == PoolStrategy::secure ? "secure" : "fast"; }

std::optional<SeccompMode> parseSeccompMode(const std::string& text) {
  if (text == "strict") return SeccompMode::strict;
  if (text == "unconfined") return SeccompMode::unconfined;
  if (text == "custom") return SeccompMode::custom;
  return std::nullopt;
}

const char* toString(SeccompMode mode) {
  switch (mode) {
    case SeccompMode::strict: return "strict";
    case SeccompMode::unconfined: return "unconfined";
    case SeccompMode::custom: return "custom";
  }
  return "strict";
}

const char* version() { return ISOL8_VERSION; }

}  // namespace isol8
