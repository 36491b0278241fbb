#include "engine/process_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "docker/docker_client.hpp"
#include "engine/container_spec.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

namespace {

asio::awaitable<void> pump(ExecConnection& conn, StreamDemuxer& demuxer) {
  // (A std::vector, not a local array: g++ 12 miscompiles arrays held across co_await.)
  std::vector<char> buffer(65536);
  for (;;) {
    std::size_t n = co_await conn.readSome(buffer.data(), buffer.size());
    if (n == 0) co_return;
    demuxer.feed(std::string_view(buffer.data(), n));
  }
}

asio::awaitable<void> feedStdin(ExecConnection& conn, const std::optional<std::string>& data) {
  if (!data) co_return;
  if (!data->empty()) co_await conn.write(*data);
  conn.closeStdin();
}

asio::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// The exit code is recorded slightly after the output stream ends; poll briefly for it.
asio::awaitable<int> waitExitCode(DockerClient& docker, const std::string& execId) {
  for (int attempt = 0; attempt < 400; ++attempt) {
    auto state = co_await docker.inspectExec(execId);
    if (!state.running && state.exitCode) co_return *state.exitCode;
    co_await sleepFor(std::chrono::milliseconds(attempt < 20 ? 2 : 10));
  }
  co_return 1;
}

// Kills every process of the sandbox user (forks, daemons, orphans), checking that none is left.
asio::awaitable<void> killSandboxProcesses(DockerClient& docker, const std::string& containerId) {
  // Named locals, not braced temporaries inside co_await: g++ 12 rejects the latter.
  const std::vector<std::string> argv{"sh", "-c", kKillSandboxProcessesScript};
  const auto spec = makeExecSpec(argv, {}, "/", false);
  auto execId = co_await docker.createExec(containerId, spec);
  auto conn = co_await docker.startExec(execId);
  std::vector<char> sink(512);
  while (co_await conn->readSome(sink.data(), sink.size()) != 0) {
  }
}

asio::awaitable<void> waitForStop(StopSignal* stop) {
  if (!stop) {
    // Never completes on its own; the || below cancels it when another branch ends.
    asio::steady_timer forever(co_await asio::this_coro::executor, Clock::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);
  } else {
    co_await stop->wait();
  }
}

}  // namespace

void StopSignal::trigger() {
  triggered_ = true;
  for (auto* timer : waiting_) timer->cancel();
}

asio::awaitable<void> StopSignal::wait() {
  if (triggered_) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, Clock::time_point::max());
  waiting_.push_back(&timer);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::erase(waiting_, &timer);
  // Woken by trigger(), or cancelled because the run ended first: only the former returns.
  if (!triggered_) throw boost::system::system_error(ec ? ec : asio::error::operation_aborted);
}

asio::awaitable<ProcessOutcome> DockerExecRunner::run(const ProcessSpec& spec, OutputSink onOutput) {
  auto execId = co_await docker_.createExec(spec.containerId,
                                            makeExecSpec(spec.argv, spec.env, spec.workdir, spec.stdin.has_value()));
  StreamDemuxer demuxer([&](DockerStream stream, std::string_view payload) {
    if (onOutput && (stream == DockerStream::stdout || stream == DockerStream::stderr)) onOutput(stream, payload);
  });

  const auto started = Clock::now();
  auto conn = co_await docker_.startExec(execId);
  asio::steady_timer deadline(co_await asio::this_coro::executor, spec.timeout);

  ProcessOutcome outcome;
  auto finished = co_await ((pump(*conn, demuxer) && feedStdin(*conn, spec.stdin)) ||
                            deadline.async_wait(asio::use_awaitable) || waitForStop(spec.stop));
  outcome.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (finished.index() != 0) {
    (finished.index() == 1 ? outcome.timedOut : outcome.stopped) = true;
    outcome.exitCode = 137;
    conn->close();
    co_await killSandboxProcesses(docker_, spec.containerId);
    co_return outcome;
  }
  outcome.exitCode = co_await waitExitCode(docker_, execId);
  co_return outcome;
}

}  // namespace isol8::detail
