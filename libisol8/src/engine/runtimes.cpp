#include "engine/runtimes.hpp"

#include <fmt/format.h>

#include "isol8/error.hpp"

namespace isol8::detail {
namespace {

// Registry order is user-visible: it is the order of the "Available: ..." list.
const std::vector<Runtime>& registry() {
  static const std::vector<Runtime> runtimes = {
      {"python", "isol8:python", ".py", {}, true},
      {"node", "isol8:node", ".mjs", {".js", ".cjs"}, true},
      {"bun", "isol8:bun", ".ts", {}, true},
      {"bash", "isol8:bash", ".sh", {}, true},
      // Deno has no "-e" form that honours the permission flags below, so code goes to a file.
      {"deno", "isol8:deno", ".mts", {}, false},
  };
  return runtimes;
}

}  // namespace

std::vector<std::string> Runtime::inlineCommand(const std::string& code) const {
  if (name == "python") return {"python3", "-c", code};
  if (name == "node") return {"node", "-e", code};
  if (name == "bun") return {"bun", "-e", code};
  if (name == "bash") return {"bash", "-c", code};
  // Reaching here is an engine bug (it must check runsInline first), not a user error.
  throw Error(errc::not_supported, fmt::format("{} adapter requires a file path — inline code is not supported.",
                                               name == "deno" ? "Deno" : name));
}

std::vector<std::string> Runtime::warmUpCommand() const {
  if (name == "deno") return {"deno", "eval", ""};
  return inlineCommand("");
}

std::vector<std::string> Runtime::fileCommand(const std::string& path) const {
  if (name == "python") return {"python3", path};
  if (name == "node") return {"node", path};
  if (name == "bun") return {"bun", "run", path};
  if (name == "bash") return {"bash", path};
  if (name == "deno") {
    // Deno denies everything by default; grant what the other runtimes have. The container's
    // own limits (network mode, read-only root, tmpfs) stay the real boundary.
    return {"deno", "run", "--allow-read=/sandbox,/tmp", "--allow-write=/sandbox,/tmp", "--allow-env", "--allow-net",
            path};
  }
  throw Error(errc::not_supported, fmt::format("Runtime {} has no file command", name));
}

InstallCommand Runtime::installCommand(const std::vector<std::string>& packages) const {
  InstallCommand install;
  auto& argv = install.argv;
  if (name == "python") {
    argv = {"pip", "install", "--user", "--no-cache-dir", "--break-system-packages", "--disable-pip-version-check",
            "--retries", "0", "--timeout", "15"};
    install.env = {"PYTHONUSERBASE=/sandbox/.local"};
  } else if (name == "node") {
    argv = {"npm", "install", "--prefix", "/sandbox", "--no-audit", "--no-fund"};
    install.env = {"NPM_CONFIG_PREFIX=/sandbox/.npm-global", "NPM_CONFIG_CACHE=/sandbox/.npm-cache",
                   "NPM_CONFIG_FETCH_RETRIES=0", "NPM_CONFIG_FETCH_RETRY_MINTIMEOUT=1000",
                   "NPM_CONFIG_FETCH_RETRY_MAXTIMEOUT=2000"};
  } else if (name == "bun") {
    // Bun 1.4 rejects --global-dir; the BUN_INSTALL_* variables of the image say where to go.
    argv = {"bun", "install", "-g"};
  } else if (name == "deno") {
    // `deno cache` takes one specifier at a time; a bare name means an npm package.
    argv = {"sh", "-c", "for p in \"$@\"; do deno cache \"$p\" || exit $?; done", "sh"};
    for (const auto& p : packages) argv.push_back(p.find(':') == std::string::npos ? "npm:" + p : p);
    install.env = {"DENO_DIR=/sandbox/.deno"};
    return install;
  } else {
    throw Error(errc::not_supported,
                fmt::format("Package installs for {} are not possible at run time (the root filesystem is read-only). "
                            "Build a custom image instead: isol8 build --base {} --install <package> --tag <name>",
                            name, name));
  }
  argv.insert(argv.end(), packages.begin(), packages.end());
  return install;
}

const Runtime& runtimeByName(std::string_view name) {
  for (const Runtime& runtime : registry()) {
    if (runtime.name == name) return runtime;
  }
  throw Error(errc::invalid_request,
              fmt::format("Unknown runtime: \"{}\". Available: {}", name, fmt::join(runtimeNames(), ", ")));
}

const Runtime* detectRuntime(std::string_view filename) {
  const std::string extension = fileExtensionOf(filename);
  if (extension.empty()) return nullptr;
  for (const Runtime& runtime : registry()) {
    if (runtime.extension == extension) return &runtime;
    for (const std::string& alias : runtime.aliases) {
      if (alias == extension) return &runtime;
    }
  }
  return nullptr;
}

std::vector<std::string> runtimeNames() {
  std::vector<std::string> names;
  for (const Runtime& runtime : registry()) names.push_back(runtime.name);
  return names;
}

std::string fileExtensionOf(std::string_view filename) {
  // Only the base name counts: in "dir.v2/script" the dot belongs to a directory.
  const std::size_t slash = filename.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) return {};
  return std::string(base.substr(dot));
}

}  // namespace isol8::detail
