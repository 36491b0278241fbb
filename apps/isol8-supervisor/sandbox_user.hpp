// Becoming the sandbox user (uid 100, gid 101) in a freshly forked child, and running a
// piece of supervisor code as that user with a bounded answer.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace isol8::supervisor {

// In a forked child: drops every capability from the bounding set, then groups, gid and uid
// to the sandbox user's. Returns false (errno set) when any step fails; the caller must then
// _exit, never go on as root.
bool becomeSandboxUser();

// Forks a child that becomes the sandbox user and runs `work(fd)`, where fd is the write end
// of a pipe back to us; the child's exit code is work's return value. Each piece of its answer
// goes to `onAnswer`, which returns false to stop listening (the child is then killed), until
// `deadline`, past which the child is killed too. Blocks the caller: used only between steps.
struct ChildStatus {
  bool finished = false;  // exited on its own, heard to the end, before the deadline
  int exitCode = -1;
};
ChildStatus runAsSandboxUser(const std::function<int(int fd)>& work,
                             const std::function<bool(std::string_view)>& onAnswer,
                             std::chrono::steady_clock::time_point deadline);

// The same, keeping at most `maxAnswer` bytes of the answer (more: not finished).
struct ChildAnswer : ChildStatus {
  std::string answer;
};
ChildAnswer collectAsSandboxUser(const std::function<int(int fd)>& work, std::size_t maxAnswer,
                                 std::chrono::steady_clock::time_point deadline);

// write() until everything is written or an error other than EINTR (true when all written).
bool writeAll(int fd, const void* data, std::size_t size);

}  // namespace isol8::supervisor
