// One step of a request (a package install, a setup script, the code): a process of the
// sandbox user in its own session, its stdin fed from the engine, its stdout and stderr
// forwarded as produced (up to a limit, the rest drained), under the step's own deadline.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/protocol.hpp"

namespace isol8::supervisor {

class Step {
 public:
  using Clock = std::chrono::steady_clock;
  // Sends a frame to the engine.
  using Send = std::function<void(const std::string&)>;

  Step(std::uint32_t id, const RunRequest& request, Send send);
  ~Step();
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;

  // Forks and execs; on failure the step is already finished with exit code 127.
  void start(char** baseEnvironment);

  std::uint32_t id() const { return id_; }
  pid_t pid() const { return pid_; }
  void addPollFds(std::vector<pollfd>& fds) const;
  void handle(const std::vector<pollfd>& fds);
  void feedStdin(std::string data);  // empty: end of input

  // The process (pid_) was reaped.
  void exited(int status, std::uint64_t userUs, std::uint64_t systemUs, std::uint64_t maxRssKb);
  // Another process was reaped while this step ran (its orphans): counted as the step's.
  void orphanReaped(std::uint64_t userUs, std::uint64_t systemUs, std::uint64_t maxRssKb);

  // Deadline passed or the engine cancelled: the caller kills every process, then calls this.
  void endNow(bool timedOut);

  // When the step wants attention without any fd event (deadline, grace after exit).
  Clock::time_point nextWake() const;
  // Sends the exit report when the step is done (process gone, output drained); true then.
  bool finishIfDone();
  bool deadlinePassed() const { return !ended_ && Clock::now() >= deadline_; }

 private:
  void readOutput(int index);
  void flushStdin();
  void closeFd(int& fd);

  std::uint32_t id_;
  RunRequest request_;
  Send send_;
  pid_t pid_ = -1;
  int out_[2] = {-1, -1};  // read ends of stdout, stderr
  int in_ = -1;            // write end of stdin
  std::string stdinPending_;
  bool stdinEnded_ = false;
  std::uint64_t forwarded_[2] = {0, 0};
  Clock::time_point started_ = Clock::now();
  Clock::time_point deadline_;
  Clock::time_point exitedAt_;
  bool reaped_ = false;
  bool ended_ = false;  // timed out or cancelled
  bool reported_ = false;
  ExitReport report_;
  std::uint64_t oomAtStart_ = 0;
};

}  // namespace isol8::supervisor
