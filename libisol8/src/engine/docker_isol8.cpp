// DockerIsol8: one execute, top to bottom.
//   validate → wait for a maxConcurrent slot → pick the image (override, custom image with the
//   packages, or isol8:<runtime>) → take a container (warm pool, or the persistent one) →
//   write the request's files → install packages → image setup script → request setup script
//   → run the code as the sandbox user, output masked and capped → read back outputPaths →
//   hand the container back (cleaned and proved clean before reuse, for the same tenant only).
// Every step inside the container goes through the container's supervisor
// (supervisor_channel.hpp), under one deadline for the whole request. Everything runs on the
// engine's own thread (one io_context), so engine state needs no locks; the public async calls
// hop onto it and back.
#include "isol8/docker_isol8.hpp"

#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/array.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/container_spec.hpp"
#include "engine/custom_images.hpp"
#include "engine/event_queue.hpp"
#include "engine/filtered_network.hpp"
#include "engine/notifier.hpp"
#include "engine/output.hpp"
#include "engine/owner_lock.hpp"
#include "engine/pool.hpp"
#include "engine/stop_signal.hpp"
#include "engine/supervisor_binary.hpp"
#include "engine/supervisor_channel.hpp"
#include "engine/request_validation.hpp"
#include "engine/runtimes.hpp"
#include "engine/semaphore.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "network/remote_code.hpp"
#include "util/log.hpp"
#include "util/engine_thread.hpp"
#include "util/text.hpp"

namespace isol8 {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace detail;

namespace {

// Code longer than this goes through a file: one argv string may not exceed 128 KiB.
constexpr std::size_t kMaxInlineCode = 64 * 1024;

using Clock = std::chrono::steady_clock;

constexpr std::string_view kTimedOutMarker = "\n--- EXECUTION TIMED OUT ---";

// A package install or setup script failed: buffered runs throw `message`, streams show
// `streamMessage` and end with `exitCode` (the original's two wordings).
struct SetupFailure : Error {
  SetupFailure(std::string message, std::string streamMessage, int exitCode)
      : Error(errc::setup_failed, std::move(message)), streamMessage(std::move(streamMessage)), exitCode(exitCode) {}
  std::string streamMessage;
  int exitCode;
};

using EventSink = std::function<void(StreamEvent)>;

// One output stream of a process on its way out: secrets masked (also across chunks), then
// capped at maxOutputSize, then shown to the sink (if any) and kept for the result.
class OutputChannel {
 public:
  OutputChannel(StreamEvent::Type type, StreamEvent::Phase phase, std::int64_t maxBytes,
                const std::vector<std::string>& secrets, const EventSink& sink)
      : type_(type), phase_(phase), masker_(secrets), collector_(maxBytes), sink_(sink) {}

  void write(std::string_view chunk) { show(collector_.append(masker_.feed(chunk))); }
  // The whole kept output, with the truncation marker when capped (also shown to the sink).
  std::string finish() {
    show(collector_.append(masker_.flush()));
    show(collector_.truncationMarker());
    return collector_.finish();
  }
  bool truncated() const { return collector_.truncated(); }
  void dropped(std::uint64_t bytes) { collector_.countDropped(static_cast<std::int64_t>(bytes)); }

 private:
  void show(std::string_view data) {
    if (sink_ && !data.empty()) sink_(StreamEvent{type_, std::string(data), phase_});
  }
  StreamEvent::Type type_;
  StreamEvent::Phase phase_;
  SecretMasker masker_;
  OutputCollector collector_;
  const EventSink& sink_;
};

std::vector<std::string> secretValues(const EngineOptions& options) {
  std::vector<std::string> values;
  for (const auto& [name, value] : options.secrets) values.push_back(value);
  return values;
}

std::string packagesKey(const Runtime& runtime, const std::vector<std::string>& packages) {
  std::string key = runtime.name;
  for (const auto& p : packages) key += "\n" + p;
  return key;
}

}  // namespace

struct DockerIsol8::Impl {
  EngineOptions options;
  // This engine's, handed to what logs. Set in the constructor: g++ 12 mis-destroys the
  // temporaries of a default member initializer that copies a std::function.
  const Logger log;
  bool optionsChecked = false;  // options never change: validated on first use, not per run
  const std::vector<std::string> secrets = secretValues(options);  // the values to mask
  std::string engineId = newUuidV4().substr(0, 8);  // label value; unique enough per host
  // Held while the engine lives: cleanup spares its containers (label isol8.owner).
  std::string owner = options.owner.empty() ? "engine-" + engineId : options.owner;
  OwnerLock ownerLock{owner};
  EngineThread engine;
  asio::io_context& context = engine.context();
  DockerClient docker{DockerEndpoint::fromEnvironment(), std::chrono::milliseconds(options.dockerTimeoutMs)};
  AsyncSemaphore permits;
  AsyncSemaphore persistentTurn{1};  // one request at a time in the persistent container
  ContainerPool pool;
  // Read once per engine, not on every execute (a custom profile file could change under us).
  std::optional<std::string> seccompProfile;
  std::map<std::string, ResolvedImage> resolvedImages;  // by runtime + requested packages
  std::set<std::string> presentImages;

  // Mode persistent: the one container, its runtime, whether the image's setup ran.
  std::optional<SandboxContainer> persistent;
  std::string persistentRuntime;
  mutable std::mutex persistentIdMutex;  // containerId() is read from other threads
  std::string persistentId;

  // Runs in flight, so stop() can end them and wait.
  std::set<StopSignal*> activeRuns;
  ChangeNotifier runsChanged;  // a run or a start ended
  // A stop wins over a start still under way: the start leaves the pool alone once a stop
  // began (stops changed), and the stop waits for it, so no container is made after a stop.
  std::uint64_t stops = 0;
  int startsUnderWay = 0;

  explicit Impl(EngineOptions o)
      : options(std::move(o)),
        log(options.debug, options.logSink),
        permits(std::max(options.maxConcurrent, 1)),
        pool(context.get_executor(), docker,
             ContainerPool::Settings{options.poolStrategy, options.poolSize, options.maxReuse,
                                     std::chrono::milliseconds(options.removalRetryMs),
                                     std::chrono::milliseconds(options.removalRetryMaxMs)},
             lifecycle(), log) {
    engine.start();  // last: everything the thread may touch exists
  }
  // First: the thread stops before the members it uses are destroyed.
  ~Impl() { engine.join(); }

  std::map<std::string, std::string> runtimeOfImage;  // for the isol8.runtime label
  // Filtered mode: the egress proxy and the per-container sockets (created on first use).
  std::unique_ptr<FilteredNetwork> filtered;

  FilteredNetwork* filteredNetwork() {
    if (options.network != NetworkMode::filtered) return nullptr;
    if (!filtered)
      filtered = std::make_unique<FilteredNetwork>(context.get_executor(), options.networkFilter, engineId, log);
    return filtered.get();
  }

  ContainerPool::Lifecycle lifecycle() {
    ContainerPool::Lifecycle life;
    life.spec = [this](const SandboxContainer& c) {
      ContainerSpecInput input{c.image, runtimeOfImage[c.image], engineId, owner, &options, seccompProfile.value_or("")};
      if (auto* net = filteredNetwork()) input.proxySocketDir = net->socketDirFor(c);
      input.supervisorDir = supervisorHostDir();
      return makeContainerSpec(input);
    };
    life.warm = [this](const SandboxContainer& c) -> asio::awaitable<void> {
      auto it = runtimeOfImage.find(c.image);
      if (it == runtimeOfImage.end()) co_return;
      StepSpec spec;
      spec.argv = runtimeByName(it->second).warmUpCommand();
      spec.timeout = std::chrono::seconds(30);
      spec.outputLimit = 4096;
      co_await c.supervisor->run(spec, {});
    };
    life.removed = [this](const SandboxContainer& c) {
      if (filtered) filtered->forget(c);
    };
    return life;
  }

  // ---- images -------------------------------------------------------------------------

  asio::awaitable<ResolvedImage> resolve(const Runtime& runtime, const std::vector<std::string>& packages) {
    const std::string key = packagesKey(runtime, packages);
    if (auto it = resolvedImages.find(key); it != resolvedImages.end()) co_return it->second;
    auto resolved = co_await resolveImage(docker, runtime, options.image, packages);
    co_await ensureImage(runtime, resolved.image);
    resolvedImages[key] = resolved;
    runtimeOfImage[resolved.image] = runtime.name;
    co_return resolved;
  }

  asio::awaitable<void> ensureImage(const Runtime& runtime, const std::string& image) {
    if (presentImages.count(image)) co_return;
    if (!co_await docker.inspectImage(image)) {
      if (image != runtime.image)
        throw Error(errc::image_missing,
                    fmt::format("Image {} not found in the Docker engine. Build or pull it first, or drop the image "
                                "option to use {}.",
                                image, runtime.image));
      log.debug("image {} missing, building it", image);
      ImageBuilder builder([this](std::string_view line) { log.debug("{}", trim(line)); });
      co_await builder.asyncEnsure(runtime.name);
    }
    presentImages.insert(image);
  }

  // ---- one run --------------------------------------------------------------------------

  asio::awaitable<ExecutionResult> execute(ExecutionRequest req, EventSink sink, StopSignal& stop) {
    checkOptions();
    validateRequest(req);
    const Runtime& runtime = runtimeByName(req.runtime);
    auto permit = co_await permits.acquire();
    if (stop.triggered()) throw Error(errc::cancelled, "Execution cancelled");
    // codeUrl (network/remote_code.hpp): fetched and checked before a container is taken.
    if (!trim(req.codeUrl).empty())
      req.code = co_await fetchRemoteCode(options.remoteCode, req.codeUrl, req.codeHash, req.allowInsecureCodeUrl, log);
    if (!seccompProfile) seccompProfile = loadSeccompProfile(options.security);

    const bool persistentMode = options.mode == ExecutionMode::persistent;
    if (persistentMode && persistent && persistentRuntime != runtime.name)
      throw Error(errc::invalid_request,
                  fmt::format("Cannot switch runtime from \"{}\" to \"{}\". Each persistent container supports a single "
                              "runtime. Create a new Isol8 instance for a different runtime.",
                              persistentRuntime, runtime.name));
    const ResolvedImage image = co_await resolve(runtime, req.installPackages);
    std::optional<InstallCommand> install;
    if (!req.installPackages.empty() && !image.coversPackages) {
      install = runtime.installCommand(req.installPackages);  // bash refuses here, before a container is taken
    }

    bool firstUse = true;
    SandboxContainer container;
    AsyncSemaphore::Permit turn;
    if (persistentMode) {
      turn = co_await persistentTurn.acquire();
      // Killed or removed behind our back: say so once, rather than fail every request or
      // carry on in a fresh container as if its files were still there.
      if (persistent && !persistent->supervisor->alive()) {
        co_await dropPersistent();
        throw containerGone();
      }
      if (!persistent) {
        persistent = co_await pool.create(image.image);
        persistentRuntime = runtime.name;
        std::lock_guard lock(persistentIdMutex);
        persistentId = persistent->id;
      } else {
        firstUse = false;
      }
      container = *persistent;
    } else {
      container = co_await pool.acquire(image.image, req.tenant);
    }

    ExecutionResult result;
    std::exception_ptr failure;
    bool reusable = true;
    try {
      result = co_await runIn(container, req, runtime, image, install, firstUse, sink, stop);
    } catch (const SetupFailure&) {
      failure = std::current_exception();  // the user's setup failed; the container is fine
    } catch (const Error& e) {
      failure = std::current_exception();
      // A cancelled run (stream abandoned, client gone) leaves a sound container: the pool's
      // hygiene kills whatever it left running. Other errors may have left it in any state.
      reusable = e.code() == errc::cancelled;
    } catch (...) {
      failure = std::current_exception();
      reusable = false;  // a Docker-level failure may have left it in any state
    }

    if (persistentMode) {
      // A session keeps its files, nothing else: no process, IPC object or queue of this run
      // is alive when the next one (or its package install) starts.
      const bool gone = failure && !container.supervisor->alive();  // before dropPersistent closes it
      reusable = reusable && co_await endSessionRequest(container);
      if (!reusable) co_await dropPersistent();
      if (gone) failure = std::make_exception_ptr(containerGone());
    } else if (options.persist) {
      log.debug("keeping container {} (persist)", container.id.substr(0, 12));
    } else {
      pool.release(std::move(container), reusable);
    }
    if (failure) std::rethrow_exception(failure);
    co_return result;
  }

  asio::awaitable<ExecutionResult> runIn(SandboxContainer& container, const ExecutionRequest& req,
                                         const Runtime& runtime, const ResolvedImage& image,
                                         const std::optional<InstallCommand>& install, bool firstUse,
                                         const EventSink& sink, StopSignal& stop) {
    // One deadline for the whole request: install, setup scripts and code share it.
    const auto timeout = std::chrono::milliseconds(req.timeoutMs.value_or(options.timeoutMs));
    const RequestClock clock{Clock::now() + timeout, timeout};
    SupervisorChannel& supervisor = *container.supervisor;
    FilteredNetwork* net = filteredNetwork();
    if (net) net->beginRun(container);

    if (!req.files.empty()) co_await supervisor.writeFiles(sandboxPaths(req.files));

    if (install) {
      // Filtered: the runtime's package registry (as the engine's options name it) is
      // reachable for the install only, not for the code.
      if (net) {
        const auto registries = options.registries.find(runtime.name);
        net->allowHosts(container, registries == options.registries.end() ? std::vector<std::string>{} : registries->second);
      }
      try {
        co_await runSetupStep(supervisor, install->argv, install->env, clock, sink, stop, "Package install");
        if (net) net->allowHosts(container, {});
      } catch (SetupFailure& failure) {
        if (net) net->allowHosts(container, {});
        // The usual cause by far: say so instead of leaving it to the package manager's words.
        if (options.network == NetworkMode::none)
          failure = SetupFailure(failure.message() + "\n(The network is off: installs need network access, e.g. --net host.)",
                                 failure.streamMessage, failure.exitCode);
        throw;
      }
    }
    if (firstUse && !image.setupScript.empty())
      co_await runSetupStep(supervisor, setupArgv(image.setupScript), {}, clock, sink, stop, "Setup script");
    if (!trim(req.setupScript).empty())
      co_await runSetupStep(supervisor, setupArgv(req.setupScript), {}, clock, sink, stop, "Setup script");

    StepSpec spec;
    spec.stop = &stop;
    spec.stdinText = req.stdinText;
    spec.timeout = clock.remaining();
    spec.outputLimit = supervisorOutputLimit();
    // Secrets and the request's env reach the code's process only (not setup, not the
    // container), so `docker inspect` never shows them.
    for (const auto& [k, v] : options.secrets) spec.env.push_back(k + "=" + v);
    for (const auto& [k, v] : req.env) spec.env.push_back(k + "=" + v);
    spec.cwd = resolveWorkdir(req.workdir);  // created by the supervisor when missing
    const bool customExtension = !req.fileExtension.empty() && req.fileExtension != runtime.extension;
    if (!trim(req.cmd).empty()) {
      spec.argv = {"bash", "-c", req.cmd};
    } else if (runtime.runsInline && !customExtension && req.code.size() <= kMaxInlineCode) {
      spec.argv = runtime.inlineCommand(req.code);
    } else {
      std::string ext = req.fileExtension.empty() ? runtime.extension : req.fileExtension;
      if (!ext.starts_with('.')) ext.insert(0, 1, '.');
      const std::string path = std::string(kSandboxDir) + "/main" + ext;
      std::size_t frameBytes = req.code.size();
      for (const auto& e : spec.env) frameBytes += e.size();
      if (frameBytes <= supervisor::kMaxScript) {  // the run frame stays well under kMaxFrame
        spec.scriptPath = path;  // written by the step itself: no round trip of its own
        spec.script = req.code;
      } else {
        // Named locals, not braced temporaries inside co_await: g++ 12 rejects the latter.
        const std::map<std::string, std::string> script{{path, req.code}};
        co_await supervisor.writeFiles(script);
      }
      spec.argv = runtime.fileCommand(path);
    }

    using Type = StreamEvent::Type;
    OutputChannel out(Type::stdout_data, StreamEvent::Phase::code, options.maxOutputSize, secrets, sink);
    OutputChannel err(Type::stderr_data, StreamEvent::Phase::code, options.maxOutputSize, secrets, sink);
    StepOutcome outcome;
    if (spec.timeout.count() > 0) {
      outcome = co_await supervisor.run(spec, [&](supervisor::OutputStream stream, std::string_view data) {
        (stream == supervisor::OutputStream::stdout_stream ? out : err).write(data);
      });
    } else {
      outcome.timedOut = true;  // the setup steps used up the request's time
      outcome.exitCode = 137;
    }
    if (outcome.stopped) throw Error(errc::cancelled, "Execution cancelled");

    out.dropped(outcome.droppedStdout);
    err.dropped(outcome.droppedStderr);
    ExecutionResult result;
    result.stdoutText = out.finish();
    result.stderrText = err.finish();
    result.truncated = out.truncated() || err.truncated();
    result.exitCode = outcome.exitCode;
    result.timedOut = outcome.timedOut;
    result.durationMs = outcome.durationMs;
    result.oomKilled = outcome.oomKilled;
    result.resourceUsage = {outcome.cpuUserMs, outcome.cpuSystemMs, outcome.peakMemoryBytes, outcome.durationMs};
    if (outcome.timedOut) result.stderrText += kTimedOutMarker;
    if (!req.outputPaths.empty()) result.files = co_await readFiles(supervisor, req.outputPaths);
    if (net) net->endRun(container, result, options.logNetwork);

    result.executionId = newUuidV4();
    result.runtime = runtime.name;
    result.timestamp = isoTimestampNow();
    result.containerId = container.id;
    co_return result;
  }

  // The request's deadline, and its length for messages.
  struct RequestClock {
    Clock::time_point deadline;
    std::chrono::milliseconds length;
    std::chrono::milliseconds remaining() const {
      return std::max(std::chrono::milliseconds(0),
                      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    }
  };

  // What the supervisor forwards per stream: the cap plus room for masking (a secret's `***`
  // may stand for more bytes); beyond that it drains and drops, so a flood never crosses over.
  std::uint64_t supervisorOutputLimit() const {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(options.maxOutputSize, 0)) + 64 * 1024;
  }

  static std::vector<std::string> setupArgv(const std::string& script) { return {"/bin/bash", "-c", script}; }

  // An install or setup script: output shown as phase "setup" (masked, capped), never kept.
  asio::awaitable<void> runSetupStep(SupervisorChannel& supervisor, std::vector<std::string> argv,
                                     std::vector<std::string> env, const RequestClock& clock, const EventSink& sink,
                                     StopSignal& stop, std::string_view what) {
    StepSpec spec;
    spec.argv = std::move(argv);
    spec.env = std::move(env);
    spec.timeout = clock.remaining();
    spec.stop = &stop;
    spec.outputLimit = supervisorOutputLimit();
    using Type = StreamEvent::Type;
    OutputChannel out(Type::stdout_data, StreamEvent::Phase::setup, options.maxOutputSize, secrets, sink);
    OutputChannel err(Type::stderr_data, StreamEvent::Phase::setup, options.maxOutputSize, secrets, sink);
    StepOutcome outcome;
    if (spec.timeout.count() > 0) {
      outcome = co_await supervisor.run(spec, [&](supervisor::OutputStream stream, std::string_view data) {
        (stream == supervisor::OutputStream::stdout_stream ? out : err).write(data);
      });
    } else {
      outcome.timedOut = true;
    }
    out.finish();
    const std::string errors = err.finish();
    if (outcome.stopped) throw Error(errc::cancelled, "Execution cancelled");
    if (outcome.timedOut) {
      const std::string upper = what == "Setup script" ? "SETUP SCRIPT TIMED OUT" : "PACKAGE INSTALL TIMED OUT";
      throw SetupFailure(fmt::format("{} timed out after {} ms", what, clock.length.count()), upper, 137);
    }
    if (outcome.exitCode != 0) {
      throw SetupFailure(fmt::format("{} failed (exit code {}): {}", what, outcome.exitCode, trim(errors)),
                         fmt::format("{} failed (exit code {})", what, outcome.exitCode), outcome.exitCode);
    }
  }

  // ---- files ----------------------------------------------------------------------------

  // Request paths (relative to /sandbox, or absolute in /sandbox or /tmp) made absolute.
  static std::map<std::string, std::string> sandboxPaths(const std::map<std::string, std::string>& files) {
    std::map<std::string, std::string> out;
    for (const auto& [path, content] : files) out[resolveSandboxPath(path)] = content;
    return out;
  }

  // Reads regular files back, never following a symlink; missing paths are left out, and only
  // the paths asked for can come back (the supervisor answers one report per path, in order).
  // At most maxFileSize bytes in all; secrets are masked in them as in the output.
  asio::awaitable<std::map<std::string, std::string>> readFiles(SupervisorChannel& supervisor,
                                                                const std::vector<std::string>& paths) {
    std::vector<std::string> absolute;
    for (const auto& p : paths) absolute.push_back(resolveSandboxPath(p));
    const auto limit = static_cast<std::uint64_t>(options.maxFileSize);
    const auto reports = co_await supervisor.readFiles(absolute, limit);
    std::map<std::string, std::string> files;
    for (std::size_t i = 0; i < absolute.size(); ++i) {
      const auto& report = reports[i];
      switch (report.status) {
        case supervisor::FileStatus::ok: files[absolute[i]] = maskSecrets(report.content, secrets); break;
        case supervisor::FileStatus::missing:
        case supervisor::FileStatus::not_regular: break;  // as before: only regular files come back
        case supervisor::FileStatus::too_large:
          throw Error(errc::io_error, fmt::format("File {} in the container would take the files read back past "
                                                  "maxFileSize ({} bytes)",
                                                  absolute[i], limit));
        case supervisor::FileStatus::error:
          throw Error(errc::io_error, fmt::format("Failed to read {} in the container: {}", absolute[i],
                                                  report.content.substr(0, 200)));
      }
    }
    co_return files;
  }

  // ---- sessions -------------------------------------------------------------------------

  // After each request in the persistent container: every process killed, SysV IPC, POSIX
  // queues and /dev/shm emptied; /sandbox and /tmp kept. False when that could not be proved.
  asio::awaitable<bool> endSessionRequest(SandboxContainer& container) {
    try {
      const auto done = co_await container.supervisor->reset(supervisor::ResetScope::processes);
      if (!done.ok) log.warning("session container {} not proved clean: {}", container.id.substr(0, 12), done.message);
      co_return done.ok;
    } catch (const std::exception& e) {
      log.warning("ending a request in {}: {}", container.id.substr(0, 12), e.what());
      co_return false;
    }
  }

  asio::awaitable<void> dropPersistent() {
    if (!persistent) co_return;
    co_await pool.destroy(*persistent);
    persistent.reset();
    std::lock_guard lock(persistentIdMutex);
    persistentId.clear();
  }

  // ---- engine lifecycle -----------------------------------------------------------------

  // Runs `execute` counted as active, so stop() can end it and wait for it.
  asio::awaitable<ExecutionResult> tracked(ExecutionRequest req, EventSink sink, std::shared_ptr<StopSignal> stop) {
    activeRuns.insert(stop.get());
    std::exception_ptr failure;
    ExecutionResult result;
    try {
      result = co_await execute(std::move(req), std::move(sink), *stop);
    } catch (...) {
      failure = std::current_exception();
    }
    activeRuns.erase(stop.get());
    runsChanged.notify();
    if (failure) std::rethrow_exception(failure);
    co_return result;
  }

  asio::awaitable<void> stream(ExecutionRequest req, std::shared_ptr<EventQueue> queue) {
    auto stop = std::make_shared<StopSignal>();
    queue->onCancel([this, stop] { asio::post(context, [stop] { stop->trigger(); }); });
    auto event = [&](StreamEvent::Type type, std::string data, StreamEvent::Phase phase) {
      queue->push(StreamEvent{type, std::move(data), phase});
    };
    using Type = StreamEvent::Type;
    using Phase = StreamEvent::Phase;
    try {
      auto result = co_await tracked(std::move(req), [&](StreamEvent e) { queue->push(std::move(e)); }, stop);
      if (result.timedOut) event(Type::error, "EXECUTION TIMED OUT", Phase::code);
      const int exitCode = result.exitCode;
      queue->setResult(std::move(result));
      event(Type::exit, std::to_string(exitCode), Phase::code);
    } catch (const SetupFailure& f) {
      event(Type::error, f.streamMessage, Phase::setup);
      event(Type::exit, std::to_string(f.exitCode), Phase::setup);
    } catch (const std::exception& e) {
      event(Type::error, e.what(), Phase::code);
      event(Type::exit, "1", Phase::code);
    }
    queue->close();
  }

  void checkOptions() {
    if (optionsChecked) return;
    validateOptions(options);  // throws; then a later call checks again
    optionsChecked = true;
  }

  asio::awaitable<void> start(StartOptions startOptions) {
    ++startsUnderWay;
    struct Ended {
      Impl& self;
      ~Ended() {
        --self.startsUnderWay;
        self.runsChanged.notify();
      }
    } ended{*this};
    const std::uint64_t stopsBefore = stops;
    checkOptions();
    co_await docker.ping();
    if (!startOptions.prewarm || options.mode == ExecutionMode::persistent) co_return;
    if (!seccompProfile) seccompProfile = loadSeccompProfile(options.security);
    auto names = startOptions.runtimes.empty() ? runtimeNames() : startOptions.runtimes;
    for (const auto& name : names) {
      try {
        const Runtime& runtime = runtimeByName(name);
        const std::vector<std::string> noPackages;
        if (stops != stopsBefore) co_return;
        const auto image = co_await resolve(runtime, noPackages);
        if (stops != stopsBefore) co_return;
        co_await pool.prewarm(image.image);
      } catch (const std::exception& e) {
        log.warning("prewarming {}: {}", name, e.what());  // a cold start later, not an error now
      }
    }
  }

  asio::awaitable<void> stop() {
    ++stops;
    for (auto* run : activeRuns) run->trigger();
    while (!activeRuns.empty() || startsUnderWay > 0) co_await runsChanged.wait();
    co_await pool.drain();
    co_await dropPersistent();
  }

  static Error containerGone() {
    return Error(errc::container_gone,
                 "The session's container is gone (stopped or removed outside isol8); its files are lost. "
                 "Start a new session.");
  }

  asio::awaitable<const SandboxContainer*> persistentContainer() {
    if (!persistent) throw Error(errc::no_container, "No active container. Call execute() first in persistent mode.");
    if (!persistent->supervisor->alive()) {
      co_await dropPersistent();
      throw containerGone();
    }
    co_return &*persistent;
  }

  asio::awaitable<void> putFile(std::string path, std::string content) {
    auto turn = co_await persistentTurn.acquire();
    const auto& container = *co_await persistentContainer();
    const std::map<std::string, std::string> files{{resolveSandboxPath(path), std::move(content)}};
    co_await container.supervisor->writeFiles(files);
  }

  asio::awaitable<std::string> getFile(std::string path) {
    auto turn = co_await persistentTurn.acquire();
    const auto& container = *co_await persistentContainer();
    const std::vector<std::string> paths{path};
    auto files = co_await readFiles(*container.supervisor, paths);
    auto it = files.find(resolveSandboxPath(path));
    if (it == files.end()) throw Error(errc::io_error, fmt::format("File not found in container: {}", path));
    co_return std::move(it->second);
  }

  asio::awaitable<void> removeAllContainers() {
    json::object filters{{"label", json::array{"isol8.engine=" + engineId}}};
    auto containers = co_await docker.listContainers(filters);
    for (const auto& c : containers) {
      SandboxContainer container;
      container.id = std::string(c.as_object().at("Id").as_string());
      co_await pool.destroy(std::move(container));
    }
  }
};

DockerIsol8::DockerIsol8(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

DockerIsol8::~DockerIsol8() {
  try {
    impl_->engine.run(impl_->stop());
  } catch (const std::exception& e) {
    impl_->log.warning("stopping engine: {}", e.what());
  }
}

const EngineOptions& DockerIsol8::options() const { return impl_->options; }
const std::string& DockerIsol8::engineId() const { return impl_->engineId; }
std::string DockerIsol8::containerId() const {
  std::lock_guard lock(impl_->persistentIdMutex);
  return impl_->persistentId;
}

asio::awaitable<void> DockerIsol8::asyncStart(StartOptions options) {
  co_await asio::co_spawn(impl_->context, impl_->start(std::move(options)), asio::use_awaitable);
}

asio::awaitable<void> DockerIsol8::asyncStop() {
  co_await asio::co_spawn(impl_->context, impl_->stop(), asio::use_awaitable);
}

asio::awaitable<ExecutionResult> DockerIsol8::asyncExecute(ExecutionRequest request) {
  co_return co_await asio::co_spawn(
      impl_->context, impl_->tracked(std::move(request), {}, std::make_shared<StopSignal>()), asio::use_awaitable);
}

asio::awaitable<ExecutionResult> DockerIsol8::asyncExecute(ExecutionRequest request,
                                                           std::shared_ptr<RunCanceller> canceller) {
  auto stop = std::make_shared<StopSignal>();
  // The trigger runs on the engine's thread, as StopSignal needs; detached once the run is
  // over, so a late cancel() never reaches an engine that may be gone.
  canceller->attach([context = &impl_->context, stop] { asio::post(*context, [stop] { stop->trigger(); }); });
  struct Detach {
    RunCanceller& canceller;
    ~Detach() { canceller.attach({}); }
  } detach{*canceller};
  co_return co_await asio::co_spawn(impl_->context, impl_->tracked(std::move(request), {}, stop), asio::use_awaitable);
}

ExecutionStream DockerIsol8::executeStream(ExecutionRequest request) {
  auto queue = std::make_shared<EventQueue>(impl_->context.get_executor());
  asio::co_spawn(impl_->context, impl_->stream(std::move(request), queue), asio::detached);
  return ExecutionStream(queue);
}

asio::awaitable<void> DockerIsol8::asyncPutFile(std::string path, std::string content) {
  co_await asio::co_spawn(impl_->context, impl_->putFile(std::move(path), std::move(content)), asio::use_awaitable);
}

asio::awaitable<std::string> DockerIsol8::asyncGetFile(std::string path) {
  co_return co_await asio::co_spawn(impl_->context, impl_->getFile(std::move(path)), asio::use_awaitable);
}

asio::awaitable<void> DockerIsol8::asyncRemoveAllContainers() {
  co_await asio::co_spawn(impl_->context, impl_->removeAllContainers(), asio::use_awaitable);
}

}  // namespace isol8
