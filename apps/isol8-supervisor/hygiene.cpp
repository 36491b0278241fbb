#include "hygiene.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "sandbox_user.hpp"

namespace isol8::supervisor {

namespace {

// Reads at most `limit` bytes of a (kernel) file; empty when unreadable.
std::string readBounded(const char* path, std::size_t limit) {
  std::string text;
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return text;
  char buffer[8192];
  while (text.size() < limit) {
    const ssize_t n = read(fd, buffer, std::min(sizeof buffer, limit - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  return text;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// Pids in /proc other than ours.
int otherProcesses() {
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  int count = 0;
  const pid_t self = getpid();
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    ++count;
  }
  closedir(proc);
  return count;
}

// ---- run as the sandbox user ------------------------------------------------------------

// Removes everything below `dir` (not dir itself), giving the owner back permissions a run
// may have taken away first. Returns false when something could not be removed.
bool removeContents(int dirFd) {
  bool ok = true;
  DIR* dir = fdopendir(dirFd);
  if (!dir) {
    close(dirFd);
    return false;
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  for (const auto& name : names) {
    struct stat st {};
    if (fstatat(dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      fchmodat(dirfd(dir), name.c_str(), 0700, 0);
      const int child = openat(dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) ok = removeContents(child) && ok;
      if (unlinkat(dirfd(dir), name.c_str(), AT_REMOVEDIR) != 0) ok = false;
    } else if (unlinkat(dirfd(dir), name.c_str(), 0) != 0) {
      ok = false;
    }
  }
  closedir(dir);
  return ok;
}

bool isEmptyDir(const char* path) {
  DIR* dir = opendir(path);
  if (!dir) return errno == ENOENT;
  bool empty = true;
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  closedir(dir);
  return empty;
}

// Removes every SysV object listed in /proc/sysvipc/<kind>; the id is the second column.
void removeSysv(const char* kind) {
  const std::string path = std::string("/proc/sysvipc/") + kind;
  const std::string text = readBounded(path.c_str(), 4 << 20);
  const auto all = lines(text);
  for (std::size_t i = 1; i < all.size(); ++i) {
    long key = 0, id = -1;
    if (std::sscanf(std::string(all[i]).c_str(), "%ld %ld", &key, &id) != 2 || id < 0) continue;
    const int ipcId = static_cast<int>(id);
    if (std::string_view(kind) == "shm") shmctl(ipcId, IPC_RMID, nullptr);
    else if (std::string_view(kind) == "msg") msgctl(ipcId, IPC_RMID, nullptr);
    else semctl(ipcId, 0, IPC_RMID);
  }
}

bool sysvEmpty(const char* kind) {
  const std::string path = std::string("/proc/sysvipc/") + kind;
  const std::string text = readBounded(path.c_str(), 1 << 16);
  std::size_t count = 0;
  for (auto line : lines(text))
    if (!line.empty()) ++count;
  return count <= 1;  // the header line only
}

// The places to empty: the sandbox's own tmpfs mounts (for `everything`), the shared-memory
// and queue file systems, and any other mount the sandbox user can write (a custom image's
// volume, say).
std::vector<std::string> placesToEmpty(ResetScope scope) {
  std::vector<std::string> places{"/dev/shm", "/dev/mqueue"};
  if (scope == ResetScope::everything) {
    for (const char* p : {"/sandbox", "/tmp", "/var/tmp"}) places.emplace_back(p);
    const std::string mounts = readBounded("/proc/self/mountinfo", 1 << 20);
    for (auto line : lines(mounts)) {
      // id parent major:minor root mountpoint options ...
      std::vector<std::string_view> fields;
      std::size_t start = 0;
      while (fields.size() < 6 && start < line.size()) {
        const auto space = line.find(' ', start);
        fields.push_back(line.substr(start, space - start));
        if (space == std::string_view::npos) break;
        start = space + 1;
      }
      if (fields.size() < 6) continue;
      const std::string point(fields[4]);
      if (point.starts_with("/proc") || point.starts_with("/sys") || point.starts_with("/dev/pts")) continue;
      if (point.find('\\') != std::string::npos) continue;  // escaped names: none of ours
      if (access(point.c_str(), W_OK) != 0) continue;
      struct stat st {};
      if (stat(point.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      bool known = false;
      for (const auto& p : places) known = known || p == point;
      if (!known) places.push_back(point);
    }
  }
  return places;
}

int cleanAsSandboxUser(ResetScope scope, int answerFd) {
  std::string left;
  for (const auto& place : placesToEmpty(scope)) {
    const int fd = open(place.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || (place != "/sandbox" && place != "/tmp")) continue;
      left += place + " unreadable; ";
      continue;
    }
    removeContents(fd);
    if (!isEmptyDir(place.c_str())) left += place + " not empty; ";
  }
  if (scope == ResetScope::everything) chmod("/sandbox", 0700);
  for (const char* kind : {"shm", "msg", "sem"}) {
    removeSysv(kind);
    if (!sysvEmpty(kind)) left += std::string("SysV ") + kind + " objects left; ";
  }
  if (!left.empty()) writeAll(answerFd, left.data(), left.size());
  return left.empty() ? 0 : 1;
}

bool hasAbstractSockets() {
  const std::string text = readBounded("/proc/net/unix", 1 << 20);
  const auto all = lines(text);
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto line = all[i];
    const auto lastSpace = line.rfind(' ');
    if (lastSpace != std::string_view::npos && line.substr(lastSpace + 1).starts_with('@')) return true;
  }
  return false;
}

}  // namespace

void reapChildren(const ReapHandler& onReaped) {
  for (;;) {
    int status = 0;
    rusage usage {};
    const pid_t pid = wait4(-1, &status, WNOHANG, &usage);
    if (pid <= 0) return;
    rusage_view view;
    view.userUs = static_cast<std::uint64_t>(usage.ru_utime.tv_sec) * 1000000 + usage.ru_utime.tv_usec;
    view.systemUs = static_cast<std::uint64_t>(usage.ru_stime.tv_sec) * 1000000 + usage.ru_stime.tv_usec;
    view.maxRssKb = static_cast<std::uint64_t>(usage.ru_maxrss);
    if (onReaped) onReaped(pid, status, view);
  }
}

bool killAll(const ReapHandler& onReaped, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    // From PID 1 with CAP_KILL, -1 reaches every other process of the container. A fork that
    // races this round is caught by the next one.
    kill(-1, SIGKILL);
    reapChildren(onReaped);
    if (otherProcesses() == 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

CleanResult cleanContainer(ResetScope scope, bool checkAbstractSockets,
                           std::chrono::steady_clock::time_point deadline) {
  CleanResult result;
  const auto answer =
      collectAsSandboxUser([scope](int fd) { return cleanAsSandboxUser(scope, fd); }, 64 * 1024, deadline);
  if (!answer.finished) {
    result.message = "cleaning did not finish in time";
    return result;
  }
  if (answer.exitCode != 0) {
    result.message = answer.answer.empty() ? "cleaning failed (exit " + std::to_string(answer.exitCode) + ")"
                                           : answer.answer;
    return result;
  }
  // The cleaner was our only child: no process is left to hold a socket open.
  if (checkAbstractSockets && hasAbstractSockets()) {
    result.message = "abstract unix sockets left";
    return result;
  }
  result.clean = true;
  return result;
}

std::uint64_t oomKillCount() {
  for (const char* path : {"/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"}) {
    const std::string text = readBounded(path, 4096);
    for (auto line : lines(text)) {
      if (line.starts_with("oom_kill ")) return std::strtoull(std::string(line.substr(9)).c_str(), nullptr, 10);
    }
  }
  return 0;
}

}  // namespace isol8::supervisor
