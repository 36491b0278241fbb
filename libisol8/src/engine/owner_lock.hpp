// Who still runs: every container isol8 creates carries its owner's name (label isol8.owner),
// and a live owner holds a shared lock on <runtime dir>/owners/<owner>.lock for as long as one
// of its engines lives. The kernel drops the lock when the process ends, however it ends, so
// `isol8 cleanup` and a restarted server can tell a killed owner's leftovers from a live
// owner's containers. Like the egress-proxy sockets, this sees owners on this machine only.
#pragma once

#include <string>
#include <string_view>

namespace isol8::detail {

inline constexpr const char* kOwnerLabel = "isol8.owner";

// Owner names are file names: letters, digits, '-' and '_', 1-64 characters.
bool isValidOwner(std::string_view owner);

class OwnerLock {
 public:
  // Takes the shared lock (engines of one owner hold it together). Throws Error(io_error)
  // when the lock file cannot be made.
  explicit OwnerLock(const std::string& owner);
  ~OwnerLock();
  OwnerLock(const OwnerLock&) = delete;
  OwnerLock& operator=(const OwnerLock&) = delete;

 private:
  int fd_ = -1;
};

// True while some engine (in this process or another) holds `owner`'s lock.
bool ownerAlive(const std::string& owner);

}  // namespace isol8::detail
