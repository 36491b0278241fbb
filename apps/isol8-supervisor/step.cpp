#include "step.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "hygiene.hpp"
#include "files.hpp"
#include "sandbox_user.hpp"

namespace isol8::supervisor {

namespace {

// How long a step's output may stay open after its process exited (a background process
// that inherited stdout would otherwise hold the step until its deadline).
constexpr auto kOutputGrace = std::chrono::milliseconds(100);

// The container's environment with the step's variables on top (a step's NAME=value wins).
std::vector<std::string> mergedEnvironment(char** base, const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> byName;
  std::vector<std::string> order;
  auto put = [&](std::string entry) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) return;
    std::string name = entry.substr(0, eq);
    if (!byName.count(name)) order.push_back(name);
    byName[name] = std::move(entry);
  };
  for (char** e = base; e && *e; ++e) put(*e);
  for (const auto& e : overrides) put(e);
  std::vector<std::string> env;
  for (const auto& name : order) env.push_back(byName[name]);
  return env;
}

bool makeDirectories(const std::string& path) {
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
    if (slash == std::string::npos) return true;
  }
}

[[noreturn]] void failChild(const std::string& what, int code) {
  const std::string message = "isol8: " + what + ": " + std::strerror(errno) + "\n";
  writeAll(2, message.data(), message.size());
  _exit(code);
}

// In the forked child: becomes the step's process. Never returns.
[[noreturn]] void execStep(const RunRequest& request, char** baseEnvironment, int in, int out, int err) {
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
  setsid();  // its own session and process group
  if (!becomeSandboxUser()) failChild("cannot become the sandbox user", 126);
  umask(022);
  if (chdir(request.cwd.c_str()) != 0) {
    if (errno != ENOENT || !makeDirectories(request.cwd) || chdir(request.cwd.c_str()) != 0)
      failChild("cannot enter " + request.cwd, 1);
  }
  if (!request.scriptPath.empty()) {
    std::string leaf;
    const int dir = openParentDirectory(request.scriptPath, true, leaf);
    const int fd = dir < 0 ? -1 : openat(dir, leaf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || !writeAll(fd, request.script.data(), request.script.size()) || close(fd) != 0)
      failChild("cannot write " + request.scriptPath, 126);
    close(dir);
  }
  const auto env = mergedEnvironment(baseEnvironment, request.env);
  std::vector<char*> envp, argv;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env) {
    envp.push_back(const_cast<char*>(e.c_str()));
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  envp.push_back(nullptr);
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string& program = request.argv[0];
  if (program.find('/') != std::string::npos) {
    execve(program.c_str(), argv.data(), envp.data());
  } else {
    // As execvp, but through the step's PATH (execvpe would use ours).
    int firstError = ENOENT;
    std::size_t start = 0;
    while (start <= path.size()) {
      auto end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      const std::string dir = end > start ? path.substr(start, end - start) : ".";
      const std::string candidate = dir + "/" + program;
      execve(candidate.c_str(), argv.data(), envp.data());
      if (errno == EACCES) firstError = EACCES;
      start = end + 1;
    }
    errno = firstError;
  }
  failChild(program, errno == ENOENT ? 127 : 126);
}

void setNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

Step::Step(std::uint32_t id, const RunRequest& request, Send send)
    : id_(id), request_(request), send_(std::move(send)), deadline_(started_ + std::chrono::milliseconds(request.timeoutMs)) {}

Step::~Step() {
  closeFd(out_[0]);
  closeFd(out_[1]);
  closeFd(in_);
}

void Step::closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

void Step::start(char** baseEnvironment) {
  oomAtStart_ = oomKillCount();
  int out[2], err[2], in[2] = {-1, -1};
  bool piped = pipe2(out, O_CLOEXEC) == 0;
  piped = piped && pipe2(err, O_CLOEXEC) == 0;
  if (piped && request_.stdinOpen) piped = pipe2(in, O_CLOEXEC) == 0;
  if (piped && !request_.stdinOpen) {
    in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    piped = in[0] >= 0;
  }
  if (piped) pid_ = fork();
  if (!piped || pid_ < 0) {
    const std::string message = std::string("isol8: cannot start the process: ") + std::strerror(errno) + "\n";
    send_(encodeOutput(id_, OutputStream::stderr_stream, message));
    reaped_ = true;
    report_.exitCode = 127;
    exitedAt_ = Clock::now() - kOutputGrace;
    return;
  }
  if (pid_ == 0) execStep(request_, baseEnvironment, in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  close(in[0]);
  out_[0] = out[0];
  out_[1] = err[0];
  in_ = in[1];
  setNonBlocking(out_[0]);
  setNonBlocking(out_[1]);
  if (in_ >= 0) setNonBlocking(in_);
}

void Step::addPollFds(std::vector<pollfd>& fds) const {
  for (int fd : out_)
    if (fd >= 0) fds.push_back(pollfd{fd, POLLIN, 0});
  if (in_ >= 0 && !stdinPending_.empty()) fds.push_back(pollfd{in_, POLLOUT, 0});
}

void Step::handle(const std::vector<pollfd>& fds) {
  for (const auto& p : fds) {
    if (!p.revents) continue;
    if (p.fd == out_[0]) readOutput(0);
    else if (p.fd == out_[1]) readOutput(1);
    else if (p.fd == in_) flushStdin();
  }
}

void Step::readOutput(int index) {
  char buffer[kMaxChunk];
  for (int round = 0; round < 4 && out_[index] >= 0; ++round) {
    const ssize_t n = read(out_[index], buffer, sizeof buffer);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      closeFd(out_[index]);
      return;
    }
    std::size_t keep = static_cast<std::size_t>(n);
    if (request_.outputLimit > 0) {
      const std::uint64_t room = request_.outputLimit - std::min(request_.outputLimit, forwarded_[index]);
      if (keep > room) {
        (index == 0 ? report_.droppedStdout : report_.droppedStderr) += static_cast<std::size_t>(n) - room;
        keep = static_cast<std::size_t>(room);
      }
    }
    if (keep > 0) {
      forwarded_[index] += keep;
      send_(encodeOutput(id_, index == 0 ? OutputStream::stdout_stream : OutputStream::stderr_stream,
                         std::string_view(buffer, keep)));
    }
  }
}

void Step::feedStdin(std::string data) {
  if (data.empty()) {
    stdinEnded_ = true;
  } else {
    stdinPending_ += data;
  }
  flushStdin();
}

void Step::flushStdin() {
  while (in_ >= 0 && !stdinPending_.empty()) {
    const ssize_t n = write(in_, stdinPending_.data(), std::min<std::size_t>(stdinPending_.size(), 65536));
    if (n > 0) {
      stdinPending_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    stdinPending_.clear();  // the process closed its stdin: the rest has nowhere to go
    closeFd(in_);
  }
  if (stdinEnded_ && stdinPending_.empty()) closeFd(in_);
}

void Step::exited(int status, std::uint64_t userUs, std::uint64_t systemUs, std::uint64_t maxRssKb) {
  reaped_ = true;
  exitedAt_ = Clock::now();
  report_.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  orphanReaped(userUs, systemUs, maxRssKb);
}

void Step::orphanReaped(std::uint64_t userUs, std::uint64_t systemUs, std::uint64_t maxRssKb) {
  report_.cpuUserUs += userUs;
  report_.cpuSystemUs += systemUs;
  report_.peakRssKb = std::max(report_.peakRssKb, maxRssKb);
}

void Step::endNow(bool timedOut) {
  if (ended_ || reported_) return;
  ended_ = true;
  (timedOut ? report_.timedOut : report_.cancelled) = true;
  report_.exitCode = 137;
}

Step::Clock::time_point Step::nextWake() const {
  if (reaped_) return exitedAt_ + kOutputGrace;
  return ended_ ? Clock::now() : deadline_;
}

bool Step::finishIfDone() {
  if (reported_) return true;
  if (!reaped_) return false;
  const bool drained = out_[0] < 0 && out_[1] < 0;
  if (!drained && !ended_ && Clock::now() < exitedAt_ + kOutputGrace) return false;
  // Whatever is still in the pipes was written before we gave up waiting: pass it on.
  readOutput(0);
  readOutput(1);
  closeFd(out_[0]);
  closeFd(out_[1]);
  closeFd(in_);
  if (ended_) report_.exitCode = 137;
  report_.durationUs = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(exitedAt_ - started_).count());
  const std::uint64_t oomNow = oomKillCount();
  report_.oomKills = oomNow > oomAtStart_ ? oomNow - oomAtStart_ : 0;
  send_(encode(id_, report_));
  reported_ = true;
  return true;
}

}  // namespace isol8::supervisor
