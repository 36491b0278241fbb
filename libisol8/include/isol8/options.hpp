// Options of a local engine (DockerIsol8), with the original isol8's defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace isol8 {

enum class NetworkMode { none, host, filtered };
enum class SeccompMode { strict, unconfined, custom };

struct SecurityOptions {
  SeccompMode seccomp = SeccompMode::strict;
  std::string customProfilePath;  // with SeccompMode::custom
};

struct EngineOptions {
  NetworkMode network = NetworkMode::none;
  double cpuLimit = 1.0;
  std::string memoryLimit = "512m";
  std::int64_t pidsLimit = 64;
  std::int64_t maxOutputSize = 1048576;  // bytes, per stream
  std::int64_t timeoutMs = 30000;
  std::string image;                     // overrides isol8:<runtime>
  std::string sandboxSize = "512m";      // tmpfs /sandbox (exec)
  std::string tmpSize = "256m";          // tmpfs /tmp (noexec)
  SecurityOptions security;
  bool debug = false;
  bool persist = false;  // keep the container after the run (for inspection)
};

// Parses "none" / "host" / "filtered"; nullopt for anything else.
std::optional<NetworkMode> parseNetworkMode(const std::string& text);
const char* toString(NetworkMode mode);

}  // namespace isol8
