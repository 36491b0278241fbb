// isol8 run: resolve the input (--cmd, --url/--github/--gist, -e, file, stdin) and the options,
// run it through DockerIsol8 (or RemoteIsol8 with --host: the same Engine, so the same output
// handling), stream or print the output, exit with the program's exit code.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "credentials.hpp"
#include "isol8/code_url.hpp"
#include "isol8/config.hpp"
#include "isol8/docker_isol8.hpp"
#include "isol8/error.hpp"
#include "isol8/remote_isol8.hpp"
#include "isol8/runtime_registry.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;
namespace asio = boost::asio;

namespace {

// --host: where and as what to run remotely.
struct RemoteTarget {
  std::string host;
  std::optional<std::string> keyFlag;  // --key; resolved later (env, stored credentials)
  std::optional<std::string> sessionId;
  bool deleteSession = false;  // --persistent's generated session; a --session-id one stays
};

struct RunInput {
  ExecutionRequest request;
  EngineOptions options;
  bool stream = true;
  std::string outFile;  // --out: stdout also written here
  bool logNetwork = false;
  std::optional<RemoteTarget> remote;
};

std::string readHostFile(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// --files <dir>: every regular file below `dir` becomes /sandbox/<relative path>. Symlinks and
// the usual tool directories (VCS, dependency caches, virtualenvs) are skipped.
void addDirectoryFiles(const std::string& dir, std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(errc::invalid_request, "--files path is not a directory: " + dir);
  static const std::set<std::string> skipped{".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"};
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const auto status = it->symlink_status();
    if (fs::is_directory(status) && skipped.count(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status)) continue;
    files["/sandbox/" + fs::relative(it->path(), dir).generic_string()] = readHostFile(it->path());
  }
}

// Throws Error(invalid_request) with the message a user sees after [ERR].
RunInput parseRunArguments(const std::vector<std::string>& args, bool& debug) {
  po::options_description desc("isol8 run");
  // clang-format off
  desc.add_options()
    ("eval,e", po::value<std::string>(), "inline code")
    ("cmd", po::value<std::string>(), "shell command (bash -c)")
    ("runtime,r", po::value<std::string>(), "python, node, bun, deno, bash")
    ("net", po::value<std::string>(), "network mode: none, host, filtered")
    ("allow", po::value<std::vector<std::string>>()->composing(), "filtered: host pattern to allow (repeatable)")
    ("deny", po::value<std::vector<std::string>>()->composing(), "filtered: host pattern to deny (repeatable, wins)")
    ("log-network", po::bool_switch(), "print the requests the egress proxy saw (filtered mode)")
    ("timeout", po::value<long long>(), "timeout in ms")
    ("memory", po::value<std::string>(), "memory limit, e.g. 512m")
    ("cpu", po::value<double>(), "CPU limit (cores)")
    ("pids-limit", po::value<long long>(), "max processes")
    ("image", po::value<std::string>(), "image to use instead of isol8:<runtime>")
    ("sandbox-size", po::value<std::string>(), "size of the /sandbox tmpfs")
    ("tmp-size", po::value<std::string>(), "size of the /tmp tmpfs")
    ("stdin", po::value<std::string>(), "data for the program's stdin")
    ("workdir", po::value<std::string>(), "working directory inside /sandbox")
    ("max-output", po::value<long long>(), "output cap per stream in bytes")
    ("persist", po::bool_switch(), "keep the container after the run")
    ("persistent", po::bool_switch(), "one container for the whole run of this command (files persist between steps)")
    ("install", po::value<std::vector<std::string>>()->composing(), "package to install first (repeatable)")
    ("setup", po::value<std::vector<std::string>>()->composing(), "setup command or script file, run first (repeatable)")
    ("secret", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE: environment of the code, masked as *** in output (repeatable)")
    ("out", po::value<std::string>(), "also write the program's stdout to this file")
    ("files", po::value<std::string>(), "directory whose files are copied to /sandbox")
    ("url", po::value<std::string>(), "fetch the code from this URL (config remoteCode decides what is allowed)")
    ("github", po::value<std::string>(), "owner/repo/ref/path: the code from raw.githubusercontent.com")
    ("gist", po::value<std::string>(), "gistId/file.ext: the code from gist.githubusercontent.com")
    ("hash", po::value<std::string>(), "expected SHA-256 (hex) of the fetched code")
    ("allow-insecure-code-url", po::bool_switch(), "allow an http:// code URL (remoteCode.allowedSchemes must list http)")
    ("no-stream", po::bool_switch(), "print the output when the run ends")
    ("host", po::value<std::string>(), "run on an isol8 server (http[s]://host:port) instead of the local Docker")
    ("key", po::value<std::string>(), "the server's API key (else ISOL8_API_KEY, else `isol8 login`'s)")
    ("session-id", po::value<std::string>(), "a named server session (needs --host): its container stays for later runs")
    ("debug", po::bool_switch(), "print [DEBUG] lines")
    ("file", po::value<std::string>(), "script file");
  // clang-format on
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
  po::notify(vm);

  RunInput in;
  // isol8.config.json / ~/.isol8/config.json first; every flag given overrides it.
  const Config config = loadConfig();
  in.options = engineOptionsFrom(config);
  auto& req = in.request;
  auto& opt = in.options;
  if (vm["debug"].as<bool>()) debug = true;
  if (config.debug) debug = true;
  opt.debug = debug;
  in.stream = !vm["no-stream"].as<bool>();
  opt.persist = vm["persist"].as<bool>();
  if (vm["persistent"].as<bool>()) opt.mode = ExecutionMode::persistent;
  // One run per process: a warm pool would only start a container nobody uses.
  opt.poolSize = PoolSize{0, 0};

  const bool hasEval = vm.count("eval") != 0, hasFile = vm.count("file") != 0, hasCmd = vm.count("cmd") != 0;
  const bool hasUrl = vm.count("url") || vm.count("github") || vm.count("gist");
  std::string defaultRuntime = "python";
  if (hasCmd) {
    if (hasEval || hasFile) throw Error(errc::invalid_request, "--cmd cannot be used with file input or --eval.");
    if (hasUrl) throw Error(errc::invalid_request, "--cmd cannot be used with --url, --github or --gist.");
    req.cmd = vm["cmd"].as<std::string>();
    defaultRuntime = "bash";
  } else if (hasUrl) {
    // Remote code (network/remote_code.hpp): --url, else --github, else --gist.
    if (hasEval || hasFile)
      throw Error(errc::invalid_request, "--url/--github/--gist cannot be used with file input or --eval.");
    req.codeUrl = vm.count("url")      ? vm["url"].as<std::string>()
                  : vm.count("github") ? githubRawUrl(vm["github"].as<std::string>())
                                       : gistRawUrl(vm["gist"].as<std::string>());
    const std::string name = urlFileName(req.codeUrl);
    const auto detected = RuntimeRegistry::detect(name);
    if (detected) req.fileExtension = RuntimeRegistry::extensionOf(name);
    if (!vm.count("runtime")) {
      if (!detected) throw Error(errc::invalid_request, "Cannot detect runtime from URL path. Use --runtime to specify.");
      defaultRuntime = *detected;
    }
  } else if (hasEval) {
    req.code = vm["eval"].as<std::string>();
  } else if (hasFile) {
    const auto file = vm["file"].as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw Error(errc::invalid_request, "File not found: " + file);
    req.code = readHostFile(file);
    req.fileExtension = RuntimeRegistry::extensionOf(file);
    if (!vm.count("runtime")) {
      auto detected = RuntimeRegistry::detect(file);
      if (!detected)
        throw Error(errc::invalid_request, fmt::format("Cannot detect runtime for {}. Use --runtime to specify.", file));
      defaultRuntime = *detected;
    }
  } else {
    if (isatty(STDIN_FILENO))
      throw Error(errc::invalid_request, "No code given. Use -e <code>, a file, --cmd <command>, or pipe code on stdin.");
    req.code.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  req.runtime = vm.count("runtime") ? vm["runtime"].as<std::string>() : defaultRuntime;
  if (vm.count("hash")) req.codeHash = vm["hash"].as<std::string>();
  req.allowInsecureCodeUrl = vm["allow-insecure-code-url"].as<bool>();

  if (vm.count("net")) {
    const auto mode = vm["net"].as<std::string>();
    auto parsed = parseNetworkMode(mode);
    if (!parsed)
      throw Error(errc::invalid_request,
                  fmt::format("Invalid network mode: \"{}\". Expected one of: none, host, filtered", mode));
    opt.network = *parsed;
  } else if (vm.count("install")) {
    // Installs need the package registry, nothing else: filtered, with the registry let through
    // for the install step only (the engine reads it from the package manager's configuration).
    opt.network = NetworkMode::filtered;
    // Nothing else unless --allow or the config's network.whitelist says so.
    if (!vm.count("allow") && opt.networkFilter.whitelist.empty()) opt.networkFilter.whitelist = {"^$"};  // no host
  }
  if (vm.count("allow")) opt.networkFilter.whitelist = vm["allow"].as<std::vector<std::string>>();
  if (vm.count("deny")) opt.networkFilter.blacklist = vm["deny"].as<std::vector<std::string>>();
  in.logNetwork = opt.logNetwork = vm["log-network"].as<bool>();
  if (vm.count("timeout")) {
    opt.timeoutMs = vm["timeout"].as<long long>();
    req.timeoutMs = opt.timeoutMs;
  }
  if (vm.count("memory")) opt.memoryLimit = vm["memory"].as<std::string>();
  if (vm.count("cpu")) opt.cpuLimit = vm["cpu"].as<double>();
  if (vm.count("pids-limit") && vm["pids-limit"].as<long long>() != 0) opt.pidsLimit = vm["pids-limit"].as<long long>();
  if (vm.count("image")) opt.image = vm["image"].as<std::string>();
  if (vm.count("sandbox-size")) opt.sandboxSize = vm["sandbox-size"].as<std::string>();
  if (vm.count("tmp-size")) opt.tmpSize = vm["tmp-size"].as<std::string>();
  if (vm.count("max-output")) opt.maxOutputSize = vm["max-output"].as<long long>();
  if (vm.count("stdin")) req.stdinText = vm["stdin"].as<std::string>();
  if (vm.count("workdir")) req.workdir = vm["workdir"].as<std::string>();
  if (vm.count("out")) in.outFile = vm["out"].as<std::string>();
  if (vm.count("install")) req.installPackages = vm["install"].as<std::vector<std::string>>();
  if (vm.count("setup")) {
    std::vector<std::string> scripts;
    for (const auto& value : vm["setup"].as<std::vector<std::string>>()) {
      std::error_code ec;
      scripts.push_back(std::filesystem::is_regular_file(value, ec) ? readHostFile(value) : value);
    }
    req.setupScript = fmt::format("{}", fmt::join(scripts, "\n"));
  }
  if (vm.count("secret")) {
    for (const auto& entry : vm["secret"].as<std::vector<std::string>>()) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error(errc::invalid_request, fmt::format("Invalid --secret \"{}\": expected KEY=VALUE", entry));
      opt.secrets[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  if (vm.count("files")) addDirectoryFiles(vm["files"].as<std::string>(), req.files);

  if (vm.count("session-id") && !vm.count("host"))
    throw Error(errc::invalid_request,
                "--session-id requires --host (remote server). Session IDs are managed by the server.");
  if (vm.count("host")) {
    RemoteTarget remote{vm["host"].as<std::string>()};
    if (vm.count("key")) remote.keyFlag = vm["key"].as<std::string>();
    if (vm.count("session-id")) {
      remote.sessionId = vm["session-id"].as<std::string>();
      opt.mode = ExecutionMode::persistent;
    } else if (opt.mode == ExecutionMode::persistent) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch());
      remote.sessionId = fmt::format("cli-{}", ms.count());
      remote.deleteSession = true;
    }
    in.remote = std::move(remote);
  }
  return in;
}

// --log-network: one JSON object per request the egress proxy saw, on stderr.
void printNetworkLogs(const std::vector<NetworkLogEntry>& logs) {
  if (logs.empty()) return;
  std::fputs("\n--- Network Logs ---\n", stderr);
  for (const auto& entry : logs) {
    boost::json::object line{{"timestamp", entry.timestamp}, {"method", entry.method}, {"host", entry.host}};
    line["path"] = entry.path ? boost::json::value(*entry.path) : boost::json::value(nullptr);
    line["action"] = entry.action;
    line["durationMs"] = entry.durationMs;
    std::fprintf(stderr, "%s\n", boost::json::serialize(line).c_str());
  }
}

void writeOutFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  if (!file) throw Error(errc::io_error, "Cannot write --out file: " + path);
  std::fprintf(stderr, "[Run] Output written to %s\n", path.c_str());
}

// Streaming (the default): output appears as produced, stdout and stderr kept apart; an
// `error` event is shown as [ERR] and makes the exit code 1 unless an `exit` event follows.
asio::awaitable<int> stream(Engine& engine, RunInput in, const bool& interrupted) {
  auto events = engine.executeStream(std::move(in.request));
  int exitCode = 0;
  std::string stdoutText;
  while (auto event = co_await events.next()) {
    if (interrupted) co_return 1;  // Ctrl-C: the run's failure is expected, not reported
    switch (event->type) {
      case StreamEvent::Type::stdout_data:
        writeRaw(stdout, event->data);
        if (!in.outFile.empty()) stdoutText += event->data;
        break;
      case StreamEvent::Type::stderr_data: writeRaw(stderr, event->data); break;
      case StreamEvent::Type::error:
        printError(event->data);
        exitCode = 1;
        break;
      case StreamEvent::Type::exit: exitCode = std::stoi(event->data); break;
    }
  }
  if (!in.outFile.empty()) writeOutFile(in.outFile, stdoutText);
  if (auto result = events.result(); result && in.logNetwork) printNetworkLogs(result->networkLogs);
  co_return exitCode;
}

asio::awaitable<int> runOnce(Engine& engine, RunInput in, const bool& interrupted) {
  if (in.stream) co_return co_await stream(engine, std::move(in), interrupted);
  auto result = co_await engine.asyncExecute(std::move(in.request));
  writeRaw(stdout, result.stdoutText);
  writeRaw(stderr, result.stderrText);
  if (result.truncated) printWarning("Output was truncated");
  if (!in.outFile.empty()) writeOutFile(in.outFile, result.stdoutText);
  if (in.logNetwork) printNetworkLogs(result.networkLogs);
  co_return result.exitCode;
}

// The engine of this run and what its end and Ctrl-C need.
struct RunEngine {
  std::unique_ptr<Engine> engine;
  bool remote = false;
  bool stopAfterRun = false;  // the generated remote session is deleted at the end
  // Ctrl-C: end the run's container(s) before exiting.
  std::function<asio::awaitable<void>()> interrupt;
};

// nullopt when no API key could be found for --host (the message is printed).
std::optional<RunEngine> makeEngine(const RunInput& in) {
  RunEngine run;
  if (!in.remote) {
    auto docker = std::make_unique<DockerIsol8>(in.options);
    run.interrupt = [engine = docker.get()] { return engine->asyncRemoveAllContainers(); };
    run.engine = std::move(docker);
    return run;
  }
  auto key = resolveApiKey(in.remote->host, in.remote->keyFlag);
  if (!key) return std::nullopt;
  run.engine = std::make_unique<RemoteIsol8>(RemoteOptions{in.remote->host, *key, in.remote->sessionId}, in.options);
  run.remote = true;
  run.stopAfterRun = in.remote->deleteSession;
  // Closing the stream's connection (the engine's destructor) ends the run on the server;
  // a generated session is deleted as well.
  run.interrupt = [engine = run.engine.get(), stop = run.stopAfterRun]() -> asio::awaitable<void> {
    if (stop) co_await engine->asyncStop();
  };
  if (in.remote->sessionId) std::fprintf(stderr, "[Run] Session ID: %s\n", in.remote->sessionId->c_str());
  return run;
}

asio::awaitable<int> execute(RunEngine& run, RunInput in, const bool& interrupted) {
  if (run.remote) co_await run.engine->asyncStart();
  std::exception_ptr failure;
  int exitCode = 1;
  try {
    exitCode = co_await runOnce(*run.engine, std::move(in), interrupted);
  } catch (...) {
    failure = std::current_exception();
  }
  if (run.stopAfterRun && !interrupted) co_await run.engine->asyncStop();
  if (failure) std::rethrow_exception(failure);
  co_return exitCode;
}

}  // namespace

int runCommand(const std::vector<std::string>& args, const GlobalOptions& global) {
  bool debug = global.debug;
  RunInput input;
  try {
    input = parseRunArguments(args, debug);
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }

  // The io_context first: it must outlive the engine, whose thread may still complete this
  // context's pending waits (an abandoned stream) while the engine shuts down.
  asio::io_context context;
  auto engine = makeEngine(input);
  if (!engine) return 1;
  int exitCode = 1;
  bool interrupted = false;
  // Ctrl-C / SIGTERM: end this run's container, then exit 130 / 143. The run itself then
  // fails (its container is gone); that failure is expected and not reported.
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    interrupted = true;
    exitCode = signal == SIGINT ? 130 : 143;
    asio::co_spawn(context, engine->interrupt(), [&](std::exception_ptr) { context.stop(); });
  });
  asio::co_spawn(context, execute(*engine, std::move(input), interrupted), [&](std::exception_ptr failure, int code) {
    signals.cancel();
    if (interrupted) return;
    if (!failure) {
      exitCode = code;
      return;
    }
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      printError(e.message());
    } catch (const std::exception& e) {
      printError(e.what());
    }
    exitCode = 1;
  });
  context.run();
  return exitCode;
}

}  // namespace isol8::cli
