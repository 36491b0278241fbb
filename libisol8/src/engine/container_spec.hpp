// The hardened container definition: limits, mounts, capabilities, seccomp, labels. Every
// container isol8 creates is described here and nowhere else.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "isol8/options.hpp"

namespace isol8::detail {

inline constexpr const char* kSandboxDir = "/sandbox";

struct ContainerSpecInput {
  std::string image;
  std::string runtime;
  std::string engineId;
  std::string owner;  // label isol8.owner (engine/owner_lock.hpp)
  const EngineOptions* options = nullptr;
  std::string seccompProfileJson;  // empty with SeccompMode::unconfined
  std::string proxySocketDir;      // filtered mode: host dir mounted at /run/isol8 (read-only)
  std::string supervisorDir;       // host dir holding the supervisor, mounted at /opt/isol8
};

// The body of POST /containers/create. Validates sizes (throws Error(invalid_request)).
boost::json::object makeContainerSpec(const ContainerSpecInput& input);

// The environment of every container, which the supervisor passes on to each step (PATH,
// HOME, runtime caches under /sandbox).
const std::vector<std::string>& baseEnvironment();

// The profile text for SecurityOpt "seccomp=<json>": the embedded default for strict, the
// file's content for custom (checked to be JSON). Empty for unconfined. Throws
// Error(invalid_request): Failed to load custom seccomp profile at <path>: <reason>
std::string loadSeccompProfile(const SecurityOptions& security);

}  // namespace isol8::detail
