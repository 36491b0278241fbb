#include "isol8/options.hpp"
#include "isol8/types.hpp"
#include "isol8/version.hpp"

namespace isol8 {

const char* toString(StreamEvent::Type type) {
  switch (type) {
    case StreamEvent::Type::stdout: return "stdout";
    case StreamEvent::Type::stderr: return "stderr";
    case StreamEvent::Type::exit: return "exit";
    case StreamEvent::Type::error: return "error";
  }
  return "error";
}

const char* toString(StreamEvent::Phase phase) { return phase == StreamEvent::Phase::setup ? "setup" : "code"; }

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

const char* version() { return ISOL8_VERSION; }

}  // namespace isol8
