// Minimal POSIX ustar archives: what the Docker build context and archive endpoints need.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace isol8::detail {

class TarWriter {
 public:
  // `path` relative, '/'-separated; long paths use the ustar prefix field (up to 255 bytes)
  // and throw std::invalid_argument beyond that.
  void addFile(std::string_view path, std::string_view content, unsigned mode = 0644);
  void addDirectory(std::string_view path, unsigned mode = 0755);
  // The archive with its two terminating zero blocks. The writer may not be used afterwards.
  std::string finish();

 private:
  void header(std::string_view path, std::size_t size, unsigned mode, char type);
  std::string out_;
};

// Regular files of an archive, by path (leading "./" removed). Throws std::runtime_error on a
// malformed archive.
std::map<std::string, std::string> readTarFiles(std::string_view archive);

}  // namespace isol8::detail
