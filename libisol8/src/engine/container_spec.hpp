// The hardened container definition: limits, mounts, capabilities, seccomp, labels. Every
// container isol8 creates is described here and nowhere else.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "isol8/options.hpp"

namespace isol8::detail {

// uid/gid of the `sandbox` user inside the images; all user code runs as this.
inline constexpr const char* kSandboxUser = "100:101";
inline constexpr const char* kSandboxDir = "/sandbox";

struct ContainerSpecInput {
  std::string image;
  std::string runtime;
  std::string engineId;
  const EngineOptions* options = nullptr;
  std::string seccompProfileJson;  // empty with SeccompMode::unconfined
  std::string proxySocketDir;      // filtered mode: host dir mounted at /run/isol8 (read-only)
};

// The body of POST /containers/create. Validates sizes (throws Error(invalid_request)).
boost::json::object makeContainerSpec(const ContainerSpecInput& input);

// The body of POST /containers/{id}/exec for a process of the sandbox user.
boost::json::object makeExecSpec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                 const std::string& workdir, bool attachStdin);

// The environment every container and exec gets (PATH, HOME, runtime caches under /sandbox).
const std::vector<std::string>& baseEnvironment();

// The profile text for SecurityOpt "seccomp=<json>": the embedded default for strict, the
// file's content for custom (checked to be JSON). Empty for unconfined. Throws
// Error(invalid_request): Failed to load custom seccomp profile at <path>: <reason>
std::string loadSeccompProfile(const SecurityOptions& security);

}  // namespace isol8::detail
