// The engine's side of one container's supervisor (apps/isol8-supervisor): the container's
// attached stdio carrying supervisor/protocol.hpp frames. Every step, file transfer and
// cleaning of a run goes through it; no Docker exec is on the per-run path.
//
// Nothing that comes back is trusted beyond the protocol's bounds: frames are size-checked,
// output is passed to the caller's sink (which caps it), files come back only for the paths
// asked for, and an operation that gets no answer by its deadline breaks the channel (the
// container is then destroyed, never reused).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/stop_signal.hpp"
#include "supervisor/protocol.hpp"
#include "util/log.hpp"

namespace isol8::detail {

class DockerClient;
class ExecConnection;

struct StepSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // on top of the container's environment
  std::string cwd = "/sandbox";
  std::optional<std::string> stdinText;  // piped, then closed; nullopt: /dev/null
  std::chrono::milliseconds timeout{30000};
  std::uint64_t outputLimit = 0;  // per stream, bytes the supervisor forwards (0: all)
  StopSignal* stop = nullptr;     // optional
  std::string scriptPath;         // set: `script` is written there just before the exec
  std::string script;             // (at most sv::kMaxScript bytes)
};

struct StepOutcome {
  int exitCode = 0;
  bool timedOut = false;
  bool stopped = false;  // ended by the StopSignal
  bool oomKilled = false;
  std::uint64_t droppedStdout = 0;  // output past the limit, not forwarded
  std::uint64_t droppedStderr = 0;
  std::int64_t durationMs = 0;
  std::int64_t cpuUserMs = 0;
  std::int64_t cpuSystemMs = 0;
  std::int64_t peakMemoryBytes = 0;
};

class SupervisorChannel : public std::enable_shared_from_this<SupervisorChannel> {
 public:
  using OutputSink = std::function<void(supervisor::OutputStream, std::string_view)>;

  // Attaches to a created, not yet started container; start it, then call waitReady().
  static boost::asio::awaitable<std::shared_ptr<SupervisorChannel>> attach(DockerClient& docker,
                                                                           const std::string& containerId,
                                                                           Logger log);
  ~SupervisorChannel();

  // Waits for the supervisor's hello; throws when it does not come in time.
  boost::asio::awaitable<void> waitReady(std::chrono::milliseconds timeout);

  boost::asio::awaitable<StepOutcome> run(const StepSpec& spec, OutputSink onOutput);
  // Absolute paths inside /sandbox or /tmp → content, written as the sandbox user (large
  // files in several frames).
  boost::asio::awaitable<void> writeFiles(const std::map<std::string, std::string>& files);
  // One report per path, in order; at most maxBytes of content in all (a file past what is
  // left comes back too_large).
  boost::asio::awaitable<std::vector<supervisor::FileReport>> readFiles(const std::vector<std::string>& paths,
                                                                       std::uint64_t maxBytes);
  // Ends a request: every process killed, then cleaned for `scope`; false when not proved clean.
  boost::asio::awaitable<supervisor::Done> reset(supervisor::ResetScope scope);

  bool alive() const { return !lost_; }
  // Drops the connection: the supervisor kills everything and the container exits.
  void close();

 private:
  struct Pending {
    std::deque<supervisor::Frame> frames;
    boost::asio::steady_timer* waiter = nullptr;
  };
  SupervisorChannel(boost::asio::any_io_executor executor, std::unique_ptr<ExecConnection> connection, Logger log);

  std::uint32_t begin();  // a new operation id, registered
  void end(std::uint32_t id);
  // The next frame of operation `id`; nullopt at `deadline` or when `stop` fires (checked by
  // the caller); throws when the channel is lost.
  boost::asio::awaitable<std::optional<supervisor::Frame>> next(std::uint32_t id,
                                                                std::chrono::steady_clock::time_point deadline,
                                                                StopSignal* stop = nullptr);
  // Awaits the single `done` frame of an operation (files, reset), or throws.
  boost::asio::awaitable<supervisor::Done> awaitDone(std::uint32_t id, std::chrono::milliseconds timeout,
                                                     std::vector<supervisor::FileReport>* files = nullptr,
                                                     std::size_t expectedFiles = 0, std::uint64_t maxBytes = 0);
  void send(std::string frame);
  boost::asio::awaitable<void> readLoop();
  boost::asio::awaitable<void> writeLoop();
  void dispatch(supervisor::Frame frame);
  void lose(std::string why);
  [[noreturn]] void fail(const std::string& what);
  std::string diagnosticsSuffix() const;

  boost::asio::any_io_executor executor_;
  std::unique_ptr<ExecConnection> connection_;
  Logger log_;
  std::uint32_t nextId_ = 1;
  std::map<std::uint32_t, Pending> pending_;
  std::deque<std::string> outgoing_;
  bool writing_ = false;
  bool lost_ = false;
  bool ready_ = false;
  std::string lostReason_;
  std::string diagnostics_;  // the supervisor's stderr, last few KiB
};

}  // namespace isol8::detail
