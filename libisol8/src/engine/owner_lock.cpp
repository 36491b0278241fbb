#include "engine/owner_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "isol8/error.hpp"
#include "util/runtime_dir.hpp"

namespace isol8::detail {

namespace fs = std::filesystem;

namespace {

fs::path lockPath(const std::string& owner) { return runtimeRoot() / "owners" / (owner + ".lock"); }

}  // namespace

bool isValidOwner(std::string_view owner) {
  return !owner.empty() && owner.size() <= 64 && std::all_of(owner.begin(), owner.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

OwnerLock::OwnerLock(const std::string& owner) {
  if (!isValidOwner(owner)) throw Error(errc::invalid_request, fmt::format("Invalid owner name \"{}\"", owner));
  const fs::path path = lockPath(owner);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0 || ::flock(fd_, LOCK_SH) != 0)
    throw Error(errc::io_error, fmt::format("Cannot lock {}: {}", path.string(), std::strerror(errno)));
}

OwnerLock::~OwnerLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

bool ownerAlive(const std::string& owner) {
  if (!isValidOwner(owner)) return false;
  const int fd = ::open(lockPath(owner).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;  // never ran here, or its runtime directory was cleared
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace isol8::detail
