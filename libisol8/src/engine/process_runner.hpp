// "Run a command in a container, stream its output, report its status", behind one interface
// so the transport (Docker exec today, an in-container agent later) can change without
// touching the engine, the pool, the server or the CLI.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "docker/stream_demuxer.hpp"

namespace isol8::detail {

class DockerClient;

// Run by `sh` as the sandbox user: `kill -9 -1` (dash's builtin signals every process of uid
// 100 except this shell), repeated until /proc shows none left. A fork racing a kill is caught
// by the next round; a dying process may take a moment to be reaped, hence the short sleeps
// (~3 s at most). Exit code 3: processes survived.
inline constexpr const char* kKillSandboxProcessesScript = R"sh(
kill -9 -1 2>/dev/null
tries=0
while :; do
  alive=0
  for p in /proc/[0-9]*; do
    [ "$p" = "/proc/$$" ] && continue
    if [ -O "$p" ]; then alive=1; break; fi
  done
  [ $alive = 0 ] && break
  tries=$((tries + 1))
  [ $tries -gt 300 ] && exit 3
  kill -9 -1 2>/dev/null
  sleep 0.01
done
)sh";

// Stops a run from outside (a streaming consumer that went away, engine shutdown). Lives on
// the engine's executor: trigger() and wait() must be called there.
class StopSignal {
 public:
  void trigger();
  bool triggered() const { return triggered_; }
  // Completes when trigger() is called (at once if it already was).
  boost::asio::awaitable<void> wait();

 private:
  bool triggered_ = false;
  std::vector<boost::asio::steady_timer*> waiting_;
};

struct ProcessSpec {
  std::string containerId;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // added to the container's environment
  std::string workdir = "/sandbox";
  std::optional<std::string> stdin;  // piped, then closed; nullopt: no stdin at all
  std::chrono::milliseconds timeout{30000};
  StopSignal* stop = nullptr;  // optional
};

struct ProcessOutcome {
  int exitCode = 0;
  bool timedOut = false;
  bool stopped = false;  // ended by the StopSignal (processes killed)
  std::int64_t durationMs = 0;
};

class ProcessRunner {
 public:
  using OutputSink = std::function<void(DockerStream, std::string_view)>;
  virtual ~ProcessRunner() = default;
  // Runs the process as the sandbox user. On timeout every process of the sandbox user in
  // the container is killed (the whole tree, not just the direct child).
  virtual boost::asio::awaitable<ProcessOutcome> run(const ProcessSpec& spec, OutputSink onOutput) = 0;
};

class DockerExecRunner final : public ProcessRunner {
 public:
  explicit DockerExecRunner(DockerClient& docker) : docker_(docker) {}
  boost::asio::awaitable<ProcessOutcome> run(const ProcessSpec& spec, OutputSink onOutput) override;

 private:
  DockerClient& docker_;
};

}  // namespace isol8::detail
