// DockerIsol8: one execute, top to bottom. Validate → make sure the image exists → create the
// hardened container → (write the script) → run the code as the sandbox user under the
// timeout → collect capped output → check for an OOM kill → remove the container, whatever
// happened.
#include "isol8/docker_isol8.hpp"

#include <optional>

#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/container_spec.hpp"
#include "engine/output.hpp"
#include "engine/process_runner.hpp"
#include "engine/request_validation.hpp"
#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8 {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace detail;

namespace {

// Code longer than this goes through a file: one argv string may not exceed 128 KiB.
constexpr std::size_t kMaxInlineCode = 64 * 1024;

constexpr std::string_view kTimedOutMarker = "\n--- EXECUTION TIMED OUT ---";

// The kernel's OOM-kill counter of the container's memory cgroup (v1 or v2), -1 if unknown.
asio::awaitable<long> readOomKillCount(ProcessRunner& runner, const std::string& containerId) {
  ProcessSpec spec;
  spec.containerId = containerId;
  spec.argv = {"sh", "-c",
               "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null || cat /sys/fs/cgroup/memory.events"};
  spec.timeout = std::chrono::seconds(10);
  std::string text;
  auto outcome = co_await runner.run(spec, [&](DockerStream s, std::string_view d) {
    if (s == DockerStream::stdout) text.append(d);
  });
  if (outcome.exitCode != 0) co_return -1;
  for (const auto& line : split(text, '\n')) {
    if (line.starts_with("oom_kill ")) co_return std::stol(line.substr(9));
  }
  co_return -1;
}

}  // namespace

struct DockerIsol8::Impl {
  EngineOptions options;
  std::string engineId = newUuidV4().substr(0, 8);  // label value; unique enough per host
  // The seccomp profile is read once per engine, not on every execute.
  std::optional<std::string> seccompProfile;
  DockerClient docker;
  DockerExecRunner runner{docker};

  explicit Impl(EngineOptions o) : options(std::move(o)) {}

  asio::awaitable<void> ensureImage(const Runtime& runtime, const std::string& image) {
    if (co_await docker.inspectImage(image)) co_return;
    if (image != runtime.image)
      throw Error(errc::image_missing, fmt::format("Image {} not found in the Docker engine. Build or pull it first, or drop the image option to use {}.", image, runtime.image));
    debugLog("image {} missing, building it", image);
    ImageBuilder builder([](std::string_view line) { debugLog("{}", trim(line)); });
    co_await builder.asyncEnsure(runtime.name);
  }

  asio::awaitable<ExecutionResult> run(const ExecutionRequest& req, const Runtime& runtime, const std::string& containerId,
                                       const OutputHandler& onOutput) {
    const std::string workdir = resolveWorkdir(req.workdir);
    const auto timeout = std::chrono::milliseconds(req.timeoutMs.value_or(options.timeoutMs));

    ProcessSpec spec;
    spec.containerId = containerId;
    spec.workdir = workdir;
    spec.timeout = timeout;
    for (const auto& [k, v] : req.env) spec.env.push_back(k + "=" + v);
    spec.stdin = req.stdin;
    if (workdir != kSandboxDir) {
      // The working directory is created on demand (inside /sandbox, checked above).
      spec.workdir = kSandboxDir;
      spec.argv = {"sh", "-c", "mkdir -p \"$0\" && cd \"$0\" && exec \"$@\"", workdir};
    }

    const bool customExtension = !req.fileExtension.empty() && req.fileExtension != runtime.extension;
    std::vector<std::string> command;
    if (!trim(req.cmd).empty()) {
      command = {"bash", "-c", req.cmd};
    } else if (runtime.runsInline && !customExtension && req.code.size() <= kMaxInlineCode) {
      command = runtime.inlineCommand(req.code);
    } else {
      std::string ext = req.fileExtension.empty() ? runtime.extension : req.fileExtension;
      if (!ext.starts_with('.')) ext.insert(0, 1, '.');
      const std::string path = std::string(kSandboxDir) + "/main" + ext;
      co_await writeFile(containerId, path, req.code, timeout);
      command = runtime.fileCommand(path);
    }
    spec.argv.insert(spec.argv.end(), command.begin(), command.end());

    OutputCollector out(options.maxOutputSize), err(options.maxOutputSize);
    auto outcome = co_await runner.run(spec, [&](DockerStream stream, std::string_view data) {
      const bool isOut = stream == DockerStream::stdout;
      auto kept = (isOut ? out : err).append(data);
      if (onOutput && !kept.empty())
        onOutput(StreamEvent{isOut ? StreamEvent::Type::stdout : StreamEvent::Type::stderr, std::string(kept)});
    });

    ExecutionResult result;
    result.stdout = out.finish();
    result.stderr = err.finish();
    result.truncated = out.truncated() || err.truncated();
    result.exitCode = outcome.exitCode;
    result.timedOut = outcome.timedOut;
    result.durationMs = outcome.durationMs;
    if (outcome.timedOut) result.stderr += kTimedOutMarker;
    // A fresh container starts at zero, so any OOM kill counted now happened in this run.
    if (!outcome.timedOut && outcome.exitCode != 0) result.oomKilled = co_await readOomKillCount(runner, containerId) > 0;
    co_return result;
  }

  // Writes `content` to `path` as the sandbox user, through the process's stdin (no size limit,
  // no shell quoting of the content).
  asio::awaitable<void> writeFile(const std::string& containerId, const std::string& path, const std::string& content,
                                  std::chrono::milliseconds timeout) {
    ProcessSpec spec;
    spec.containerId = containerId;
    spec.argv = {"sh", "-c", "cat > \"$1\"", "sh", path};
    spec.stdin = content;
    spec.timeout = timeout;
    std::string errors;
    auto outcome = co_await runner.run(spec, [&](DockerStream s, std::string_view d) {
      if (s == DockerStream::stderr) errors.append(d);
    });
    if (outcome.exitCode != 0)
      throw Error(errc::docker_error, fmt::format("Failed to write file {} in container (exit code {}): {}", path,
                                                  outcome.exitCode, trim(errors)));
  }
};

DockerIsol8::DockerIsol8(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.debug) debugEnabled() = true;
}
DockerIsol8::~DockerIsol8() = default;

const EngineOptions& DockerIsol8::options() const { return impl_->options; }
const std::string& DockerIsol8::engineId() const { return impl_->engineId; }

asio::awaitable<void> DockerIsol8::asyncStart() {
  validateOptions(impl_->options);
  co_await impl_->docker.ping();
}

asio::awaitable<void> DockerIsol8::asyncStop() { co_await asyncRemoveAllContainers(); }

asio::awaitable<void> DockerIsol8::asyncRemoveAllContainers() {
  json::object filters{{"label", json::array{"isol8.engine=" + impl_->engineId}}};
  auto containers = co_await impl_->docker.listContainers(filters);
  for (const auto& c : containers) {
    std::string id(c.as_object().at("Id").as_string());
    try {
      co_await impl_->docker.removeContainer(id);
    } catch (const std::exception& e) {
      debugLog("removing {}: {}", id.substr(0, 12), e.what());
    }
  }
}

asio::awaitable<ExecutionResult> DockerIsol8::asyncExecute(ExecutionRequest request, OutputHandler onOutput) {
  auto& d = *impl_;
  validateOptions(d.options);
  validateRequest(request);
  const Runtime& runtime = runtimeByName(request.runtime);
  const std::string image = d.options.image.empty() ? runtime.image : d.options.image;

  if (!d.seccompProfile) d.seccompProfile = loadSeccompProfile(d.options.security);
  ContainerSpecInput specInput{image, runtime.name, d.engineId, &d.options, *d.seccompProfile};
  auto spec = makeContainerSpec(specInput);
  co_await d.ensureImage(runtime, image);

  const std::string containerId = co_await d.docker.createContainer(spec);
  debugLog("created container {} ({})", containerId.substr(0, 12), image);
  ExecutionResult result;
  std::exception_ptr failure;
  try {
    co_await d.docker.startContainer(containerId);
    result = co_await d.run(request, runtime, containerId, onOutput);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!d.options.persist) {
    try {
      co_await d.docker.removeContainer(containerId);
    } catch (const std::exception& e) {
      debugLog("removing container {}: {}", containerId.substr(0, 12), e.what());
    }
  }
  if (failure) std::rethrow_exception(failure);

  result.executionId = newUuidV4();
  result.runtime = runtime.name;
  result.timestamp = isoTimestampNow();
  result.containerId = containerId;
  co_return result;
}

}  // namespace isol8
