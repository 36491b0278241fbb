#include "engine/container_spec.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "engine/owner_lock.hpp"
#include "engine/request_validation.hpp"
#include "isol8/error.hpp"
#include "supervisor/protocol.hpp"

namespace isol8::detail {

std::string_view embeddedFile(std::string_view name);  // generated from seccomp/ and docker/

namespace json = boost::json;

const std::vector<std::string>& baseEnvironment() {
  static const std::vector<std::string> env = {
      "HOME=/sandbox",
      "PYTHONUNBUFFERED=1",
      "PYTHONUSERBASE=/sandbox/.local",
      "NPM_CONFIG_PREFIX=/sandbox/.npm-global",
      "DENO_DIR=/sandbox/.deno",
      "BUN_RUNTIME_TRANSPILER_CACHE_PATH=0",
      "PATH=/sandbox/.local/bin:/sandbox/.npm-global/bin:/sandbox/.bun-global/bin:/usr/local/bin:/usr/bin:/bin",
      // Global installs of npm and bun (installPackages) are found by require/import.
      "NODE_PATH=/usr/local/lib/node_modules:/sandbox/.npm-global/lib/node_modules:/sandbox/node_modules:"
      "/sandbox/.bun-global/node_modules",
  };
  return env;
}

std::string loadSeccompProfile(const SecurityOptions& security) {
  switch (security.seccomp) {
    case SeccompMode::unconfined: return {};
    case SeccompMode::strict: {
      auto profile = embeddedFile("default.json");
      if (profile.empty()) throw Error(errc::invalid_request, "Failed to load default seccomp profile: not embedded");
      return std::string(profile);
    }
    case SeccompMode::custom: {
      const auto& path = security.customProfilePath;
      auto fail = [&](const std::string& why) {
        return Error(errc::invalid_request, fmt::format("Failed to load custom seccomp profile at {}: {}", path, why));
      };
      if (path.empty()) throw fail("no path given (security.customProfilePath)");
      std::ifstream in(path, std::ios::binary);
      if (!in) throw fail("cannot open file");
      std::ostringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      auto value = json::parse(text.str(), ec);
      if (ec || !value.is_object()) throw fail(ec ? "invalid JSON: " + ec.message() : "not a JSON object");
      return text.str();
    }
  }
  return {};
}

json::object makeContainerSpec(const ContainerSpecInput& in) {
  const EngineOptions& o = *in.options;
  const auto memory = parseMemoryLimit(o.memoryLimit);
  parseSize(o.sandboxSize, "sandboxSize");
  parseSize(o.tmpSize, "tmpSize");

  json::array env;
  for (const auto& e : baseEnvironment()) env.emplace_back(e);
  const bool filtered = o.network == NetworkMode::filtered;
  if (filtered) {
    // The relay to the egress proxy (filtered_network.hpp); most HTTP clients honour these.
    for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"})
      env.emplace_back(fmt::format("{}=http://127.0.0.1:8118", name));
  }

  json::array securityOpt{"no-new-privileges"};
  securityOpt.emplace_back(in.seccompProfileJson.empty() ? std::string("seccomp=unconfined")
                                                         : "seccomp=" + in.seccompProfileJson);

  json::array binds{in.supervisorDir + ":" + supervisor::kSupervisorDir + ":ro"};
  if (filtered) {
    if (in.proxySocketDir.empty()) throw Error(errc::invalid_request, "filtered network without an egress proxy socket");
    binds.emplace_back(in.proxySocketDir + ":/run/isol8:ro");
  }
  // The supervisor's flags (apps/isol8-supervisor/main.cpp).
  json::array supervisorArgs;
  if (filtered) supervisorArgs = {"--relay", "/run/isol8/proxy.sock"};
  if (o.network == NetworkMode::host) supervisorArgs.emplace_back("--host-network");
  if (o.persist) supervisorArgs.emplace_back("--keep-on-detach");

  json::object host{
      {"Memory", memory},
      {"MemorySwap", memory},  // equal to Memory: no swap
      {"NanoCpus", nanoCpus(o.cpuLimit)},
      {"PidsLimit", o.pidsLimit},
      {"ReadonlyRootfs", true},
      {"Tmpfs",
       json::object{
           {"/tmp", fmt::format("rw,noexec,nosuid,nodev,size={}", o.tmpSize)},
           {"/sandbox", fmt::format("rw,exec,nosuid,nodev,size={},uid=100,gid=101,mode=0700", o.sandboxSize)},
       }},
      // The supervisor (PID 1, root) needs these to run steps as uid 100 and to kill them; it
      // drops the whole bounding set in every step, so the code has no capability at all.
      {"CapDrop", json::array{"ALL"}},
      {"CapAdd", json::array{"SETUID", "SETGID", "KILL", "SETPCAP"}},
      {"SecurityOpt", std::move(securityOpt)},
      {"IpcMode", "private"},
      // filtered is `none` too: only loopback, where the relay to the egress proxy listens.
      {"NetworkMode", o.network == NetworkMode::host ? "host" : "none"},
      {"Ulimits", json::array{json::object{{"Name", "nofile"}, {"Soft", 4096}, {"Hard", 4096}}}},
      {"Binds", std::move(binds)},
      // The channel carries the runs' output: it must not pile up in the daemon's logs.
      {"LogConfig", json::object{{"Type", "none"}, {"Config", json::object{}}}},
      // When the engine dies the supervisor ends the container; nothing is left behind.
      {"AutoRemove", !o.persist},
  };

  json::object spec{
      {"Image", in.image},
      // PID 1 is the supervisor, whatever the image's entrypoint; the engine talks to it
      // over the attached stdin/stdout (closing them ends every run).
      {"Entrypoint", json::array{supervisor::kSupervisorPath}},
      {"Cmd", std::move(supervisorArgs)},
      {"User", "0:0"},
      {"AttachStdin", true},
      {"AttachStdout", true},
      {"AttachStderr", true},
      {"OpenStdin", true},
      {"StdinOnce", true},
      {"Tty", false},
      {"WorkingDir", kSandboxDir},
      {"Env", std::move(env)},
      {"Labels",
       json::object{{"isol8.managed", "true"},
                    {"isol8.runtime", in.runtime},
                    {"isol8.engine", in.engineId},
                    {kOwnerLabel, in.owner}}},
      {"StopTimeout", 2},
      {"HostConfig", std::move(host)},
  };
  if (!o.sessionLabel.empty()) spec["Labels"].as_object()["isol8.session"] = o.sessionLabel;
  if (o.network == NetworkMode::none) spec["NetworkDisabled"] = true;
  return spec;
}

}  // namespace isol8::detail
