// isol8-supervisor: PID 1 of every isol8 container. It owns every run's processes and is the
// engine's only way in: frames (supervisor/protocol.hpp) on the container's attached stdin and
// stdout, never Docker exec. It runs each step as the sandbox user (uid 100) in a fresh
// session, streams its output, enforces the step's deadline, reports exit status, OOM kills and
// resource usage, and between requests kills everything and proves the container clean.
//
// It stays out of the code's reach: root without most capabilities (the code is uid 100, so
// it can neither signal nor trace us; the kernel also ignores signals to a namespace's init
// from inside), not dumpable, its binary bind-mounted read-only, every path absolute, every
// answer from a sandbox-user helper bounded. When the engine's channel drops (the engine
// died), every process is killed and the container exits.
//
//   isol8-supervisor [--relay /run/isol8/proxy.sock] [--host-network] [--keep-on-detach]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "files.hpp"
#include "hygiene.hpp"
#include "relay.hpp"
#include "sandbox_user.hpp"
#include "step.hpp"
#include "supervisor/protocol.hpp"

extern char** environ;

namespace isol8::supervisor {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kKillDeadline = std::chrono::seconds(3);
constexpr auto kCleanDeadline = std::chrono::seconds(20);
constexpr auto kFilesDeadline = std::chrono::seconds(30);

struct Flags {
  std::string relaySocket;
  bool hostNetwork = false;   // /proc/net/unix is the host's: no abstract-socket check
  bool keepOnDetach = false;  // persist: the container outlives the engine (runs still die)
};

class Supervisor {
 public:
  Supervisor(Flags flags, int signals) : flags_(std::move(flags)), signals_(signals) {
    if (!flags_.relaySocket.empty()) relay_.emplace(flags_.relaySocket);
  }

  int run() {
    send(encodeReady(kProtocolVersion));
    for (;;) {
      std::vector<pollfd> fds;
      fds.push_back(pollfd{signals_, POLLIN, 0});
      if (channelOpen_) fds.push_back(pollfd{0, POLLIN, 0});
      for (const auto& [id, step] : steps_) step->addPollFds(fds);
      if (relay_) relay_->addPollFds(fds);

      int timeout = -1;
      for (const auto& [id, step] : steps_) {
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(step->nextWake() - Clock::now()).count();
        timeout = timeout < 0 ? std::max<long long>(wait, 0) : std::min<long long>(timeout, std::max<long long>(wait, 0));
      }
      if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return fatal("poll");

      for (const auto& p : fds) {
        if (p.fd == signals_ && p.revents) {
          if (const int code = handleSignals(); code >= 0) return code;
        } else if (p.fd == 0 && p.revents && channelOpen_) {
          readChannel();
        }
      }
      for (auto& [id, step] : steps_) step->handle(fds);
      for (auto& [id, step] : steps_) {
        if (step->deadlinePassed()) {
          killEverything();
          step->endNow(true);
        }
      }
      std::erase_if(steps_, [](const auto& entry) { return entry.second->finishIfDone(); });
      if (relay_) relay_->handle(fds);
      if (!channelOpen_ && !flags_.keepOnDetach) return 0;
    }
  }

 private:
  void send(const std::string& frame) {
    if (!channelOpen_) return;
    if (!writeAll(1, frame.data(), frame.size())) loseChannel();
  }

  int fatal(const char* what) {
    const std::string message = std::string("isol8-supervisor: ") + what + ": " + std::strerror(errno) + "\n";
    writeAll(2, message.data(), message.size());
    killEverything();
    return 2;
  }

  // The engine is gone (or spoke nonsense): nothing may run without it.
  void loseChannel() {
    channelOpen_ = false;
    killEverything();
    for (auto& [id, step] : steps_) step->endNow(false);
    if (relay_) relay_->closeAll();
  }

  void killEverything() {
    killAll([this](int pid, int status, const rusage_view& usage) { reaped(pid, status, usage); },
            Clock::now() + kKillDeadline);
  }

  void reaped(int pid, int status, const rusage_view& usage) {
    for (auto& [id, step] : steps_) {
      if (step->pid() == pid) {
        step->exited(status, usage.userUs, usage.systemUs, usage.maxRssKb);
        return;
      }
    }
    if (steps_.size() == 1) steps_.begin()->second->orphanReaped(usage.userUs, usage.systemUs, usage.maxRssKb);
  }

  // Returns an exit code when the supervisor should stop.
  int handleSignals() {
    signalfd_siginfo info{};
    while (read(signals_, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        reapChildren([this](int pid, int status, const rusage_view& usage) { reaped(pid, status, usage); });
      } else {
        killEverything();  // SIGTERM/SIGINT/SIGHUP from Docker: stop, leaving nothing behind
        return 0;
      }
    }
    return -1;
  }

  void readChannel() {
    char buffer[65536];
    const ssize_t n = read(0, buffer, sizeof buffer);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      loseChannel();
      return;
    }
    try {
      incoming_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
      while (auto frame = incoming_.next()) dispatch(*frame);
    } catch (const ProtocolError& e) {
      const std::string message = std::string("isol8-supervisor: bad frame from the engine: ") + e.what() + "\n";
      writeAll(2, message.data(), message.size());
      loseChannel();
    }
  }

  void dispatch(const Frame& frame) {
    switch (frame.type) {
      case Type::run: {
        auto request = decodeRun(frame.body);
        if (steps_.count(frame.id)) throw ProtocolError("step id in use");
        auto step = std::make_unique<Step>(frame.id, request, [this](const std::string& f) { send(f); });
        step->start(environ);
        steps_.emplace(frame.id, std::move(step));
        break;
      }
      case Type::stdin_data:
        if (auto it = steps_.find(frame.id); it != steps_.end()) it->second->feedStdin(decodeData(frame.body));
        break;
      case Type::cancel:
        if (auto it = steps_.find(frame.id); it != steps_.end()) {
          killEverything();
          it->second->endNow(false);
        }
        break;
      case Type::write_files: {
        const auto error = writeFiles(decodeFiles(frame.body), Clock::now() + kFilesDeadline);
        send(encode(frame.id, Done{error.empty(), error}));
        break;
      }
      case Type::read_files: {
        const auto request = decodeRead(frame.body);
        readFiles(request, [&](const FileReport& report) { send(encode(frame.id, report)); },
                  Clock::now() + kFilesDeadline);
        send(encode(frame.id, Done{true, {}}));
        break;
      }
      case Type::reset: {
        const auto scope = decodeReset(frame.body);
        killEverything();
        for (auto& [id, step] : steps_) step->endNow(false);
        std::erase_if(steps_, [](const auto& entry) { return entry.second->finishIfDone(); });
        if (relay_) relay_->closeAll();
        Done done;
        const bool alone = killAll({}, Clock::now() + kKillDeadline);
        const auto cleaned = alone ? cleanContainer(scope, !flags_.hostNetwork, Clock::now() + kCleanDeadline)
                                   : CleanResult{false, "processes survive SIGKILL"};
        done.ok = cleaned.clean;
        done.message = cleaned.message;
        send(encode(frame.id, done));
        break;
      }
      default:
        throw ProtocolError("unexpected frame type from the engine");
    }
  }

  Flags flags_;
  int signals_;
  bool channelOpen_ = true;
  FrameSplitter incoming_;
  std::map<std::uint32_t, std::unique_ptr<Step>> steps_;
  std::optional<Relay> relay_;
};

}  // namespace
}  // namespace isol8::supervisor

int main(int argc, char** argv) {
  using namespace isol8::supervisor;
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--relay" && i + 1 < argc) flags.relaySocket = argv[++i];
    else if (arg == "--host-network") flags.hostNetwork = true;
    else if (arg == "--keep-on-detach") flags.keepOnDetach = true;
    else {
      const std::string message = "isol8-supervisor: unknown argument " + arg + "\n";
      writeAll(2, message.data(), message.size());
      return 2;
    }
  }
  // kill(-1) from anything but a container's init would reach far more than the sandbox.
  if (getpid() != 1) {
    const char message[] = "isol8-supervisor: must run as PID 1 of an isol8 container\n";
    writeAll(2, message, sizeof message - 1);
    return 2;
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no /proc/1/mem, environ or fd access for anyone
  signal(SIGPIPE, SIG_IGN);
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, sig);
  sigprocmask(SIG_BLOCK, &handled, nullptr);
  const int signals = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signals < 0) return 2;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  try {
    Supervisor supervisor(std::move(flags), signals);
    return supervisor.run();
  } catch (const std::exception& e) {
    const std::string message = std::string("isol8-supervisor: ") + e.what() + "\n";
    writeAll(2, message.data(), message.size());
    kill(-1, SIGKILL);
    return 2;
  }
}
