#include "sandbox_user.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "supervisor/protocol.hpp"

namespace isol8::supervisor {

bool becomeSandboxUser() {
  // The bounding set first (needs CAP_SETPCAP, which setuid below takes away): nothing the
  // code runs can ever regain a capability, whatever the image's files carry.
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return false;
  }
  const gid_t groups[] = {kSandboxGid};
  if (setgroups(1, groups) != 0) return false;
  if (setresgid(kSandboxGid, kSandboxGid, kSandboxGid) != 0) return false;
  if (setresuid(kSandboxUid, kSandboxUid, kSandboxUid) != 0) return false;
  uid_t r, e, s;
  if (getresuid(&r, &e, &s) != 0 || r != kSandboxUid || e != kSandboxUid || s != kSandboxUid) return false;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

bool writeAll(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

ChildStatus runAsSandboxUser(const std::function<int(int fd)>& work,
                             const std::function<bool(std::string_view)>& onAnswer,
                             std::chrono::steady_clock::time_point deadline) {
  ChildStatus result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return result;
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return result;
  }
  if (pid == 0) {
    close(fds[0]);
    // Not the engine's channel: this child only answers through its pipe.
    const int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(devNull, 0);
    dup2(devNull, 1);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    if (!becomeSandboxUser()) _exit(125);
    _exit(work(fds[1]));
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::vector<char> buffer(65536);
  bool open = true, heard = true;
  while (open && heard) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (;;) {
      const ssize_t n = read(fds[0], buffer.data(), buffer.size());
      if (n > 0) {
        if (!onAnswer(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
          heard = false;
          break;
        }
        continue;
      }
      if (n == 0) open = false;
      break;  // EAGAIN (wait again), EOF or an error
    }
  }
  close(fds[0]);
  // Either the child closed its end (it is exiting) or it ran out of time / said too much.
  if (open || !heard) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.finished = !open && heard && WIFEXITED(status);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ChildAnswer collectAsSandboxUser(const std::function<int(int fd)>& work, std::size_t maxAnswer,
                                 std::chrono::steady_clock::time_point deadline) {
  ChildAnswer result;
  static_cast<ChildStatus&>(result) = runAsSandboxUser(
      work,
      [&](std::string_view piece) {
        if (result.answer.size() + piece.size() > maxAnswer) return false;
        result.answer.append(piece);
        return true;
      },
      deadline);
  return result;
}

}  // namespace isol8::supervisor
