#include "util/tar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace isol8::detail {
namespace {

constexpr std::size_t kBlock = 512;

// ustar header field offsets and widths.
constexpr std::size_t kName = 0, kNameLen = 100;
constexpr std::size_t kMode = 100, kUid = 108, kGid = 116, kSize = 124, kMtime = 136, kChksum = 148;
constexpr std::size_t kType = 156, kMagic = 257, kVersion = 263, kPrefix = 345, kPrefixLen = 155;

std::size_t padTo512(std::size_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// Octal digits, zero padded, NUL terminated: the form every tar reader accepts.
void putOctal(char* field, std::size_t width, std::uint64_t value) {
  const std::string digits = fmt::format("{:0{}o}", value, width - 1);
  if (digits.size() > width - 1) throw std::invalid_argument("tar: value too large for a ustar header field");
  std::memcpy(field, digits.data(), digits.size());
  field[width - 1] = '\0';
}

void checkPath(std::string_view path) {
  if (path.empty()) throw std::invalid_argument("tar: empty path");
  if (path.front() == '/') throw std::invalid_argument(fmt::format("tar: path must be relative: {}", path));
  if (path.find('\0') != std::string_view::npos) throw std::invalid_argument("tar: path contains a NUL byte");
  // An archive must not place files outside the directory it is extracted into.
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") {
      throw std::invalid_argument(fmt::format("tar: path must not contain '..': {}", path));
    }
    start = end + 1;
  }
}

std::string_view fieldString(std::string_view block, std::size_t offset, std::size_t width) {
  std::string_view field = block.substr(offset, width);
  return field.substr(0, std::min(field.find('\0'), field.size()));
}

[[noreturn]] void malformed(const std::string& why) { throw std::runtime_error("Malformed tar archive: " + why); }

// Numeric header field: octal text (spaces/NULs around it), or GNU base-256 when the high bit
// of the first byte is set (sizes of 8 GiB and more).
std::uint64_t parseNumber(std::string_view field) {
  std::uint64_t value = 0;
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80)) {
    if (static_cast<unsigned char>(field[0]) & 0x40) malformed("negative number");
    for (std::size_t i = 0; i < field.size(); ++i) {
      const auto byte = static_cast<unsigned char>(i == 0 ? field[0] & 0x7f : field[i]);
      if (value > (UINT64_MAX >> 8)) malformed("number out of range");
      value = value << 8 | byte;
    }
    return value;
  }
  std::size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  for (; i < field.size() && field[i] != '\0' && field[i] != ' '; ++i) {
    if (field[i] < '0' || field[i] > '7') malformed("bad octal number in header");
    if (value > (UINT64_MAX >> 3)) malformed("number out of range");
    value = value << 3 | static_cast<std::uint64_t>(field[i] - '0');
  }
  return value;
}

void verifyChecksum(std::string_view block) {
  std::uint64_t unsignedSum = 0;
  std::int64_t signedSum = 0;  // some historical writers summed signed chars
  for (std::size_t i = 0; i < kBlock; ++i) {
    const bool inChecksum = i >= kChksum && i < kChksum + 8;
    const char c = inChecksum ? ' ' : block[i];
    unsignedSum += static_cast<unsigned char>(c);
    signedSum += static_cast<signed char>(c);
  }
  const std::uint64_t stored = parseNumber(block.substr(kChksum, 8));
  if (stored != unsignedSum && static_cast<std::int64_t>(stored) != signedSum) malformed("header checksum mismatch");
}

std::uint64_t parseDecimal(std::string_view text) {
  if (text.empty()) malformed("bad number in pax header");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) malformed("bad number in pax header");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// pax extended header: records "<length> <key>=<value>\n", length counting the whole record.
// Only the keys that change which file this is, or how long it is, matter here.
void parsePax(std::string_view data, std::optional<std::string>& path, std::optional<std::uint64_t>& size) {
  while (!data.empty() && data.front() != '\0') {
    const std::size_t space = data.find(' ');
    if (space == std::string_view::npos) malformed("bad pax record");
    const std::uint64_t length = parseDecimal(data.substr(0, space));
    if (length <= space + 1 || length > data.size()) malformed("bad pax record length");
    std::string_view record = data.substr(space + 1, length - space - 1);
    if (record.back() != '\n') malformed("pax record not terminated");
    record.remove_suffix(1);
    const std::size_t eq = record.find('=');
    if (eq == std::string_view::npos) malformed("pax record without '='");
    const std::string_view key = record.substr(0, eq);
    const std::string_view value = record.substr(eq + 1);
    if (key == "path") path = std::string(value);
    if (key == "size") size = parseDecimal(value);
    data.remove_prefix(length);
  }
}

std::string stripDotSlash(std::string path) {
  std::size_t start = 0;
  while (path.compare(start, 2, "./") == 0) start += 2;
  return path.substr(start);
}

}  // namespace

void TarWriter::header(std::string_view path, std::size_t size, unsigned mode, char type) {
  checkPath(path);
  std::string_view name = path;
  std::string_view prefix;
  if (path.size() > kNameLen) {
    // Split at a '/' so the tail fits the name field and the head the prefix field; the
    // first workable '/' keeps the prefix shortest.
    std::size_t slash = path.find('/');
    while (slash != std::string_view::npos && (path.size() - slash - 1 > kNameLen || slash == path.size() - 1)) {
      slash = path.find('/', slash + 1);
    }
    if (slash == std::string_view::npos || slash > kPrefixLen) {
      throw std::invalid_argument(fmt::format("tar: path too long for ustar: {}", path));
    }
    prefix = path.substr(0, slash);
    name = path.substr(slash + 1);
  }

  char block[kBlock] = {};
  std::memcpy(block + kName, name.data(), name.size());
  putOctal(block + kMode, 8, mode & 07777);
  putOctal(block + kUid, 8, 0);
  putOctal(block + kGid, 8, 0);
  putOctal(block + kSize, 12, size);
  putOctal(block + kMtime, 12, 0);
  block[kType] = type;
  std::memcpy(block + kMagic, "ustar", 6);  // with its NUL: POSIX ustar, not the GNU variant
  std::memcpy(block + kVersion, "00", 2);
  if (!prefix.empty()) std::memcpy(block + kPrefix, prefix.data(), prefix.size());  // data() may be null

  // The checksum is computed with its own field read as eight spaces.
  std::memset(block + kChksum, ' ', 8);
  unsigned sum = 0;
  for (char c : block) sum += static_cast<unsigned char>(c);
  const std::string digits = fmt::format("{:06o}", sum);
  std::memcpy(block + kChksum, digits.data(), 6);
  block[kChksum + 6] = '\0';
  block[kChksum + 7] = ' ';

  out_.append(block, kBlock);
}

void TarWriter::addFile(std::string_view path, std::string_view content, unsigned mode) {
  header(path, content.size(), mode, '0');
  out_.append(content);
  out_.append(padTo512(content.size()) - content.size(), '\0');
}

void TarWriter::addDirectory(std::string_view path, unsigned mode) {
  // Directory entries conventionally end in '/'.
  std::string dir(path);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  if (dir.empty()) throw std::invalid_argument("tar: empty directory path");
  header(dir + "/", 0, mode, '5');
}

std::string TarWriter::finish() {
  out_.append(2 * kBlock, '\0');
  return std::move(out_);
}

std::map<std::string, std::string> readTarFiles(std::string_view archive) {
  std::map<std::string, std::string> files;
  std::optional<std::string> nextPath;    // from a GNU 'L' entry or a pax path= record
  std::optional<std::uint64_t> nextSize;  // from a pax size= record
  std::size_t offset = 0;

  // Some writers omit the two end-of-archive blocks; running out at a block boundary is fine.
  while (offset < archive.size()) {
    if (archive.size() - offset < kBlock) malformed("truncated header");
    const std::string_view block = archive.substr(offset, kBlock);
    if (std::all_of(block.begin(), block.end(), [](char c) { return c == '\0'; })) break;
    verifyChecksum(block);

    const char type = block[kType];
    const bool meta = type == 'L' || type == 'K' || type == 'x' || type == 'g';
    std::uint64_t size = parseNumber(block.substr(kSize, 12));
    if (!meta && nextSize) size = *nextSize;

    offset += kBlock;
    if (size > archive.size() - offset) malformed("truncated entry data");
    const std::string_view data = archive.substr(offset, size);
    offset = std::min(archive.size(), offset + padTo512(size));

    if (type == 'L') {
      nextPath = std::string(data.substr(0, std::min(data.find('\0'), data.size())));
      continue;
    }
    if (type == 'x') {
      parsePax(data, nextPath, nextSize);
      continue;
    }
    if (meta) continue;  // global pax headers and long link names do not name this file

    std::string path;
    if (nextPath) {
      path = std::move(*nextPath);
    } else {
      path = std::string(fieldString(block, kName, kNameLen));
      // Only POSIX ustar has the prefix field; GNU's "ustar  " keeps other data there.
      const std::string_view prefix = fieldString(block, kPrefix, kPrefixLen);
      if (block.substr(kMagic, 6) == std::string_view("ustar\0", 6) && !prefix.empty()) {
        path = std::string(prefix) + "/" + path;
      }
    }
    nextPath.reset();
    nextSize.reset();

    // Regular files only ('0', and '\0' / '7' from old and odd writers); an old-style name
    // ending in '/' is a directory.
    const bool regular = type == '0' || type == '\0' || type == '7';
    path = stripDotSlash(std::move(path));
    if (!regular || path.empty() || path.back() == '/') continue;
    files[path] = std::string(data);
  }
  return files;
}

}  // namespace isol8::detail
