// readTarFiles (util/tar.hpp): archives Docker returns from a container (result files), whose
// contents the sandboxed program chose. Invariants: the files read are regular-file paths
// (not empty, no trailing '/', no leading "./") whose contents together fit in the archive,
// and every file TarWriter can write reads back the same.
#include <stdexcept>

#include "fuzz_support.hpp"
#include "util/tar.hpp"

using namespace isol8;

namespace {

constexpr std::size_t kBlock = 512, kChksum = 148;

// A header checksum is hard to guess: when the input's first byte is odd, every block gets a
// correct one (data blocks too, harmlessly), so the fuzzer reaches what follows the checksum.
std::string withChecksums(std::string archive) {
  for (std::size_t at = 0; at + kBlock <= archive.size(); at += kBlock) {
    char* block = archive.data() + at;
    std::fill(block + kChksum, block + kChksum + 8, ' ');
    unsigned sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(block[i]);
    std::snprintf(block + kChksum, 8, "%06o", sum);  // six digits and a NUL, then the space
  }
  return archive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body = fuzz::text(data + 1, size - 1);
  const std::string archive = (data[0] & 1) ? withChecksums(std::string(body)) : std::string(body);
  std::map<std::string, std::string> files;
  if (!fuzz::completes<std::runtime_error>([&] { files = detail::readTarFiles(archive); })) return 0;

  std::size_t total = 0;
  detail::TarWriter writer;
  std::map<std::string, std::string> written;
  for (const auto& file : files) {
    const std::string& path = file.first;
    fuzz::require(!path.empty() && path.back() != '/' && !path.starts_with("./"));
    total += file.second.size();
    // Paths the writer refuses (absolute, "..", too long for ustar) are the reader's to keep.
    if (fuzz::completes<std::invalid_argument>([&] { writer.addFile(path, file.second); })) written.insert(file);
  }
  fuzz::require(total <= archive.size());
  fuzz::require(detail::readTarFiles(writer.finish()) == written);
  return 0;
}
