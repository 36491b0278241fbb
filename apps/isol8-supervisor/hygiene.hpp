// Ending a request and proving the container clean: every process but the supervisor killed
// and reaped, then (as the sandbox user) SysV IPC objects, POSIX message queues and files in
// every place the sandbox user can write removed, and each place checked empty.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "supervisor/protocol.hpp"

namespace isol8::supervisor {

// Called with each reaped child (pid, wait status, its resource usage) so the caller can
// account for it; killAll reaps through it.
struct rusage_view {
  std::uint64_t userUs = 0, systemUs = 0, maxRssKb = 0;
};
using ReapHandler = std::function<void(int pid, int status, const rusage_view& usage)>;

// Reaps every child that has exited (WNOHANG), passing each to `onReaped`.
void reapChildren(const ReapHandler& onReaped);

// SIGKILL to every process but ourselves (PID 1), repeated until /proc lists no other
// process. False when some survive past `deadline`.
bool killAll(const ReapHandler& onReaped, std::chrono::steady_clock::time_point deadline);

// Cleans for `scope` and checks the result; message says what is left when not clean.
struct CleanResult {
  bool clean = false;
  std::string message;
};
CleanResult cleanContainer(ResetScope scope, bool checkAbstractSockets,
                           std::chrono::steady_clock::time_point deadline);

// The memory cgroup's oom_kill counter (cgroup v1 memory.oom_control or v2 memory.events);
// 0 when neither is readable. Read with a bounded buffer.
std::uint64_t oomKillCount();

}  // namespace isol8::supervisor
