#include "isol8/runtime_registry.hpp"

#include "engine/runtimes.hpp"

namespace isol8 {

std::vector<std::string> RuntimeRegistry::list() { return detail::runtimeNames(); }

std::optional<std::string> RuntimeRegistry::detect(std::string_view filename) {
  if (const auto* runtime = detail::detectRuntime(filename)) return runtime->name;
  return std::nullopt;
}

std::string RuntimeRegistry::extensionOf(std::string_view filename) { return detail::fileExtensionOf(filename); }

}  // namespace isol8
