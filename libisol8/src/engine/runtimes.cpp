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
