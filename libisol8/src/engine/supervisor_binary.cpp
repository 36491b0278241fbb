#include "engine/supervisor_binary.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "isol8/error.hpp"
#include "util/runtime_dir.hpp"
#include "util/text.hpp"

// Linked in from the built supervisor by `ld -r -b binary` (libisol8/CMakeLists.txt).
extern "C" const char _binary_isol8_supervisor_start[];
extern "C" const char _binary_isol8_supervisor_end[];

namespace isol8::detail {

namespace fs = std::filesystem;

namespace {

std::string_view embedded() {
  return {_binary_isol8_supervisor_start,
          static_cast<std::size_t>(_binary_isol8_supervisor_end - _binary_isol8_supervisor_start)};
}

bool holds(const fs::path& file, std::string_view content) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str() == content;
}

std::string install() {
  const std::string_view binary = embedded();
  // Named by content: engines of different versions side by side never share a file.
  const fs::path dir = runtimeRoot() / "supervisor" / sha256Hex(binary).substr(0, 16);
  const fs::path file = dir / "supervisor";
  if (holds(file, binary)) return dir.string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(errc::io_error, fmt::format("Cannot create {} for the sandbox supervisor: {}", dir.string(), ec.message()));
  ::chmod(dir.c_str(), 0755);  // mounted at /opt/isol8: the containers' root reads it
  // Written aside, then renamed: another engine starting at the same time sees a whole file.
  const fs::path temp = dir / fmt::format(".supervisor.{}", ::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(binary.data(), static_cast<std::streamsize>(binary.size()));
    if (!out) throw Error(errc::io_error, fmt::format("Cannot write the sandbox supervisor to {}", temp.string()));
  }
  ::chmod(temp.c_str(), 0555);
  fs::rename(temp, file, ec);
  if (ec) throw Error(errc::io_error, fmt::format("Cannot install the sandbox supervisor at {}: {}", file.string(), ec.message()));
  return dir.string();
}

}  // namespace

const std::string& supervisorHostDir() {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] { dir = install(); });
  return dir;
}

}  // namespace isol8::detail
