// Where the engine keeps host files that containers mount (the supervisor, egress-proxy
// sockets). The Docker daemon bind-mounts from this machine, so this needs a local engine.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace isol8::detail {

inline std::filesystem::path runtimeRoot() {
  if (::geteuid() == 0) return "/run/isol8";
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir) return std::filesystem::path(dir) / "isol8";
  return std::filesystem::temp_directory_path() / ("isol8-" + std::to_string(::geteuid()));
}

}  // namespace isol8::detail
