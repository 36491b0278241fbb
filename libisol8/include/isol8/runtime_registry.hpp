// The runtimes isol8 knows, by name and by file extension.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isol8 {

struct RuntimeRegistry {
  // "python", "node", "bun", "bash", "deno".
  static std::vector<std::string> list();
  // The runtime a file name's extension selects (.py, .mjs/.js/.cjs, .ts, .mts, .sh).
  static std::optional<std::string> detect(std::string_view filename);
  // The extension detection looks at: text from the last '.' of the base name, "" if none.
  static std::string extensionOf(std::string_view filename);
};

}  // namespace isol8
