// The runtimes isol8 knows: image, file extensions, and the command that runs code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

// How a runtime's package manager installs packages into /sandbox, as the sandbox user.
struct InstallCommand {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // added to the container's environment
};

struct Runtime {
  std::string name;                     // "python"
  std::string image;                    // "isol8:python"
  std::string extension;                // default script extension, ".py"
  std::vector<std::string> aliases;     // further extensions that select it, {".js", ".cjs"}
  bool runsInline = true;               // false: code must be written to a file first (deno)

  // argv that runs `code` passed on the command line (only when runsInline).
  std::vector<std::string> inlineCommand(const std::string& code) const;
  // argv that runs the script at `path`.
  std::vector<std::string> fileCommand(const std::string& path) const;
  // Starts the interpreter on nothing: run once in every new pooled container, so the first
  // real run does not pay for a cold file-system cache (single-use pools depend on it).
  std::vector<std::string> warmUpCommand() const;
  // The install of `packages` (names already validated). bash has none at run time (apt
  // needs the read-only root): Error(not_supported) pointing at custom images.
  InstallCommand installCommand(const std::vector<std::string>& packages) const;
};

// Throws Error(invalid_request): Unknown runtime: "<name>". Available: python, node, bun, bash, deno
const Runtime& runtimeByName(std::string_view name);
// The runtime selected by a file name's extension (text from the last '.'), or nullptr.
const Runtime* detectRuntime(std::string_view filename);
// "python", "node", "bun", "bash", "deno" (registry order).
std::vector<std::string> runtimeNames();
// The extension of a file name as the CLI uses it: text from the last '.', "" when none.
std::string fileExtensionOf(std::string_view filename);

}  // namespace isol8::detail
