#include "engine/supervisor_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "docker/stream_demuxer.hpp"
#include "isol8/error.hpp"
#include "util/log.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace sv = isol8::supervisor;
using Clock = std::chrono::steady_clock;

namespace {
// How long past a step's own deadline the supervisor may take to report it (it kills at the
// deadline itself; this only covers a supervisor that stopped answering).
constexpr auto kAnswerGrace = std::chrono::seconds(5);
// File transfers and cleaning: the supervisor gives its helpers 30 s and 20 s.
constexpr auto kFilesTimeout = std::chrono::seconds(35);
constexpr auto kResetTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxDiagnostics = 4096;
}  // namespace

SupervisorChannel::SupervisorChannel(asio::any_io_executor executor, std::unique_ptr<ExecConnection> connection,
                                     Logger log)
    : executor_(std::move(executor)), connection_(std::move(connection)), log_(std::move(log)) {
  pending_[0];  // the supervisor's hello comes as id 0
}

SupervisorChannel::~SupervisorChannel() = default;

asio::awaitable<std::shared_ptr<SupervisorChannel>> SupervisorChannel::attach(DockerClient& docker,
                                                                              const std::string& containerId,
                                                                              Logger log) {
  auto connection = co_await docker.attachContainer(containerId);
  std::shared_ptr<SupervisorChannel> channel(
      new SupervisorChannel(co_await asio::this_coro::executor, std::move(connection), std::move(log)));
  asio::co_spawn(channel->executor_, channel->readLoop(), asio::detached);
  co_return channel;
}

void SupervisorChannel::close() {
  lose("closed by the engine");
  connection_->close();
}

void SupervisorChannel::lose(std::string why) {
  if (lost_) return;
  lost_ = true;
  lostReason_ = std::move(why);
  for (auto& [id, pending] : pending_)
    if (pending.waiter) pending.waiter->cancel();
}

void SupervisorChannel::fail(const std::string& what) {
  // An operation that got no proper answer: the container is in an unknown state.
  lose(what);
  connection_->close();
  throw Error(errc::docker_error, "The sandbox supervisor " + what + diagnosticsSuffix());
}

asio::awaitable<void> SupervisorChannel::readLoop() {
  auto self = shared_from_this();  // alive until the connection ends
  sv::FrameSplitter splitter;
  StreamDemuxer demuxer([&](DockerStream stream, std::string_view payload) {
    if (stream == DockerStream::stdout_data) {
      splitter.feed(payload);
      while (auto frame = splitter.next()) dispatch(std::move(*frame));
    } else if (stream == DockerStream::stderr_data) {
      diagnostics_.append(payload);
      if (diagnostics_.size() > kMaxDiagnostics) diagnostics_.erase(0, diagnostics_.size() - kMaxDiagnostics);
    }
  });
  // (A std::vector, not a local array: g++ 12 miscompiles arrays held across co_await.)
  std::vector<char> buffer(65536);
  try {
    for (;;) {
      const std::size_t n = co_await connection_->readSome(buffer.data(), buffer.size());
      if (n == 0) break;
      demuxer.feed(std::string_view(buffer.data(), n));
    }
    lose("ended the connection");
  } catch (const std::exception& e) {
    lose(fmt::format("sent something unreadable ({})", e.what()));
    connection_->close();
  }
  if (!diagnostics_.empty()) log_.debug("supervisor: {}", diagnostics_);
}

void SupervisorChannel::dispatch(sv::Frame frame) {
  auto it = pending_.find(frame.id);
  if (it == pending_.end()) return;  // late output of an operation already given up on
  it->second.frames.push_back(std::move(frame));
  if (it->second.waiter) it->second.waiter->cancel();
}

void SupervisorChannel::send(std::string frame) {
  if (lost_) return;
  outgoing_.push_back(std::move(frame));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(executor_, writeLoop(), asio::detached);
  }
}

asio::awaitable<void> SupervisorChannel::writeLoop() {
  auto self = shared_from_this();
  try {
    while (!outgoing_.empty() && !lost_) {
      const std::string frame = std::move(outgoing_.front());
      outgoing_.pop_front();
      co_await connection_->write(frame);
    }
  } catch (const std::exception& e) {
    lose(fmt::format("cannot be written to ({})", e.what()));
    connection_->close();
  }
  outgoing_.clear();
  writing_ = false;
}

std::uint32_t SupervisorChannel::begin() {
  const std::uint32_t id = nextId_++;
  pending_[id];
  return id;
}

void SupervisorChannel::end(std::uint32_t id) { pending_.erase(id); }

asio::awaitable<std::optional<sv::Frame>> SupervisorChannel::next(std::uint32_t id, Clock::time_point deadline,
                                                                  StopSignal* stop) {
  auto& pending = pending_.at(id);
  for (;;) {
    if (!pending.frames.empty()) {
      auto frame = std::move(pending.frames.front());
      pending.frames.pop_front();
      co_return frame;
    }
    if (lost_) throw Error(errc::docker_error, "The sandbox supervisor " + lostReason_ + diagnosticsSuffix());
    if ((stop && stop->triggered()) || Clock::now() >= deadline) co_return std::nullopt;
    asio::steady_timer timer(executor_, deadline);
    StopSignal::Watch watch(stop, &timer);
    pending.waiter = &timer;
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    pending.waiter = nullptr;
  }
}

std::string SupervisorChannel::diagnosticsSuffix() const {
  return diagnostics_.empty() ? std::string() : ": " + diagnostics_;
}

asio::awaitable<void> SupervisorChannel::waitReady(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready_) {
    auto frame = co_await next(0, deadline);
    if (!frame) fail(fmt::format("did not start within {} ms", timeout.count()));
    if (frame->type != sv::Type::ready) continue;
    const auto version = sv::decodeReady(frame->body);
    if (version != sv::kProtocolVersion)
      fail(fmt::format("speaks protocol {}, the engine {}", version, sv::kProtocolVersion));
    ready_ = true;
  }
  end(0);
}

asio::awaitable<StepOutcome> SupervisorChannel::run(const StepSpec& spec, OutputSink onOutput) {
  const std::uint32_t id = begin();
  struct End {
    SupervisorChannel& self;
    std::uint32_t id;
    ~End() { self.end(id); }
  } ending{*this, id};

  sv::RunRequest request;
  request.timeoutMs = static_cast<std::uint32_t>(std::clamp<std::int64_t>(spec.timeout.count(), 0, UINT32_MAX));
  request.outputLimit = spec.outputLimit;
  request.stdinOpen = spec.stdinText.has_value();
  request.cwd = spec.cwd;
  request.argv = spec.argv;
  request.env = spec.env;
  request.scriptPath = spec.scriptPath;
  request.script = spec.script;
  send(sv::encode(id, request));
  if (spec.stdinText) {
    const std::string_view data = *spec.stdinText;
    for (std::size_t at = 0; at < data.size(); at += sv::kMaxChunk)
      send(sv::encodeData(sv::Type::stdin_data, id, data.substr(at, sv::kMaxChunk)));
    send(sv::encodeData(sv::Type::stdin_data, id, {}));
  }

  // The supervisor ends the step at its deadline itself; ours only catches a silent one.
  const auto deadline = Clock::now() + spec.timeout + kAnswerGrace;
  bool cancelSent = false;
  for (;;) {
    auto frame = co_await next(id, deadline, cancelSent ? nullptr : spec.stop);
    if (!frame) {
      if (spec.stop && spec.stop->triggered() && !cancelSent) {
        send(sv::encodeSimple(sv::Type::cancel, id));
        cancelSent = true;
        continue;
      }
      fail(fmt::format("did not report a step within {} ms of its deadline",
                       std::chrono::duration_cast<std::chrono::milliseconds>(kAnswerGrace).count()));
    }
    if (frame->type == sv::Type::output) {
      std::string data;
      const auto stream = sv::decodeOutput(frame->body, data);
      if (onOutput) onOutput(stream, data);
    } else if (frame->type == sv::Type::exit) {
      const auto report = sv::decodeExit(frame->body);
      StepOutcome outcome;
      outcome.exitCode = report.exitCode;
      outcome.timedOut = report.timedOut;
      outcome.stopped = report.cancelled;
      outcome.droppedStdout = report.droppedStdout;
      outcome.droppedStderr = report.droppedStderr;
      outcome.oomKilled = report.oomKills > 0;
      outcome.durationMs = static_cast<std::int64_t>(report.durationUs / 1000);
      outcome.cpuUserMs = static_cast<std::int64_t>(report.cpuUserUs / 1000);
      outcome.cpuSystemMs = static_cast<std::int64_t>(report.cpuSystemUs / 1000);
      outcome.peakMemoryBytes = static_cast<std::int64_t>(report.peakRssKb * 1024);
      co_return outcome;
    } else {
      fail("answered a step with an unexpected frame");
    }
  }
}

asio::awaitable<sv::Done> SupervisorChannel::awaitDone(std::uint32_t id, std::chrono::milliseconds timeout,
                                                       std::vector<sv::FileReport>* files, std::size_t expectedFiles,
                                                       std::uint64_t maxBytes) {
  const auto deadline = Clock::now() + timeout;
  bool openFile = false;
  std::uint64_t received = 0;  // content of every file so far (a status message is < 4 KiB)
  for (;;) {
    auto frame = co_await next(id, deadline);
    if (!frame) fail(fmt::format("did not answer within {} ms", timeout.count()));
    if (frame->type == sv::Type::done) co_return sv::decodeDone(frame->body);
    if (frame->type == sv::Type::file && files) {
      auto piece = sv::decodeFile(frame->body);
      received += piece.content.size();
      // Pieces of one file follow each other; the last (more = false) closes it.
      if (files->empty() || !openFile) {
        files->push_back(std::move(piece));
      } else {
        files->back().status = piece.status;
        files->back().content += piece.content;
        files->back().more = piece.more;
      }
      openFile = files->back().more;
      if (files->size() > expectedFiles || received > maxBytes + expectedFiles * 4096)
        fail("answered a file read with more than was asked");
      continue;
    }
    if (frame->type == sv::Type::exit || frame->type == sv::Type::output) continue;  // a step ended by a reset
    fail("answered with an unexpected frame");
  }
}

asio::awaitable<void> SupervisorChannel::writeFiles(const std::map<std::string, std::string>& files) {
  // Frames of at most ~1 MiB of content each, awaited one after the other.
  constexpr std::size_t kBatch = 1024 * 1024;
  sv::FilesRequest batch;
  std::size_t batchBytes = 0;
  auto flush = [&]() -> asio::awaitable<void> {
    const std::uint32_t id = begin();
    send(sv::encode(id, batch));
    const auto done = co_await awaitDone(id, kFilesTimeout);
    end(id);
    batch.files.clear();
    batchBytes = 0;
    if (!done.ok) throw Error(errc::io_error, "Failed to write file(s) in container: " + done.message);
  };
  for (const auto& [path, content] : files) {
    std::size_t at = 0;
    do {
      const std::size_t piece = std::min(content.size() - at, kBatch - std::min(kBatch, batchBytes));
      batch.files.push_back(sv::FilePiece{path, content.substr(at, piece), at > 0});
      batchBytes += piece + path.size() + 16;
      at += piece;
      if (batchBytes >= kBatch || batch.files.size() >= sv::kMaxList) co_await flush();
    } while (at < content.size());
  }
  if (!batch.files.empty()) co_await flush();
}

asio::awaitable<std::vector<sv::FileReport>> SupervisorChannel::readFiles(const std::vector<std::string>& paths,
                                                                         std::uint64_t maxBytes) {
  const std::uint32_t id = begin();
  send(sv::encode(id, sv::ReadRequest{maxBytes, paths}));
  std::vector<sv::FileReport> files;
  co_await awaitDone(id, kFilesTimeout, &files, paths.size(), maxBytes);
  end(id);
  if (files.size() != paths.size() || (!files.empty() && files.back().more))
    fail("answered a file read with the wrong number of files");
  co_return files;
}

asio::awaitable<sv::Done> SupervisorChannel::reset(sv::ResetScope scope) {
  const std::uint32_t id = begin();
  send(sv::encodeReset(id, scope));
  auto done = co_await awaitDone(id, kResetTimeout);
  end(id);
  co_return done;
}

}  // namespace isol8::detail
