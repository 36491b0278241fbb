#include "support.hpp"

#include "util/text.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace isol8::test {

namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// This process's environment with `changes` applied, as NAME=value strings.
std::vector<std::string> environmentWith(const EnvChanges& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (!changes.count(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [name, value] : changes)
    if (value) env.push_back(name + "=" + *value);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}
}  // namespace

TempDir::TempDir() {
  std::string templ = (fs::temp_directory_path() / "isol8-test-XXXXXX").string();
  path = mkdtemp(templ.data());
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}
std::string TempDir::write(const std::string& name, const std::string& content) const {
  auto p = fs::path(path) / name;
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

CommandResult runProgram(const std::vector<std::string>& argv, const std::optional<std::string>& input,
                         const std::string& cwd, const EnvChanges& env) {
  // Files rather than pipes: no deadlock whatever the sizes, and no reader threads.
  TempDir dir;
  const auto inPath = dir.write("stdin", input.value_or(""));
  const auto outPath = fs::path(dir.path) / "stdout", errPath = fs::path(dir.path) / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input ? inPath.c_str() : "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  auto argStrings = argv;
  auto args = pointers(argStrings);
  auto envStrings = environmentWith(env);
  auto envp = pointers(envStrings);
  pid_t pid = 0;
  CommandResult result;
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data()) != 0) return result;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(outPath);
  result.err = slurp(errPath);
  return result;
}

CommandResult runCli(std::vector<std::string> args, const std::optional<std::string>& input, const std::string& cwd,
                     const EnvChanges& env) {
  args.insert(args.begin(), ISOL8_CLI_PATH);
  return runProgram(args, input, cwd, env);
}

std::vector<std::string> containersWithLabel(const std::string& label) {
  auto r = runProgram({"docker", "ps", "-aq", "--no-trunc", "--filter", "label=" + label});
  std::vector<std::string> ids;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ids.push_back(line);
  return ids;
}

ExecutionRequest codeRequest(const std::string& runtime, const std::string& code) {
  ExecutionRequest request;
  request.runtime = runtime;
  request.code = code;
  return request;
}

ExecutionRequest shellRequest(const std::string& cmd) {
  ExecutionRequest request;
  request.runtime = "bash";
  request.cmd = cmd;
  return request;
}

ExecutionResult runCode(const std::string& runtime, const std::string& code, EngineOptions options) {
  DockerIsol8 engine(options);
  return engine.execute(codeRequest(runtime, code));
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const EnvChanges& env) {
  std::string templ = (fs::temp_directory_path() / "isol8-bg-XXXXXX").string();
  const int fd = mkstemp(templ.data());
  if (fd >= 0) close(fd);
  logPath_ = templ;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, logPath_.c_str(), O_WRONLY | O_APPEND, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  auto argStrings = argv;
  auto args = pointers(argStrings);
  auto envStrings = environmentWith(env);
  auto envp = pointers(envStrings);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data()) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ec;
  fs::remove(logPath_, ec);
}

std::string BackgroundProcess::output() const { return slurp(logPath_); }

HelloServer::HelloServer() : port(freeLoopbackPort()) {
  dir.write("hello.txt", "hello from the test server\n");
  process = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      "python3", "-u", "-m", "http.server", "--bind", "0.0.0.0", std::to_string(port), "--directory", dir.path});
  if (!waitForPort(port)) throw std::runtime_error("the test HTTP server did not start: " + process->output());
}

std::string HelloServer::url(const std::string& host, const std::string& path) const {
  return "http://" + host + ":" + std::to_string(port) + path;
}

bool HelloServer::saw(const std::string& path) const {
  return process->output().find("GET " + path) != std::string::npos;
}

EngineOptions filteredOptions(std::vector<std::string> allow, std::vector<std::string> deny,
                              std::vector<std::string> allowedAddresses) {
  EngineOptions options;
  options.network = NetworkMode::filtered;
  options.networkFilter.whitelist = std::move(allow);
  options.networkFilter.blacklist = std::move(deny);
  options.networkFilter.allowedAddresses = std::move(allowedAddresses);
  options.logNetwork = true;
  return options;
}

std::string proxyCurl(const std::string& args) { return "curl -s -m 10 -g -w ' %{http_code}' " + args + "; echo"; }

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool waitForPort(int port, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling readiness, not a test assertion
  }
  return false;
}

std::vector<std::string> sandboxProcesses(const std::string& containerId) {
  auto top = runProgram({"docker", "top", containerId, "-eo", "uid,pid,args"});
  std::vector<std::string> found;
  if (top.exitCode != 0) return found;
  std::istringstream in(top.out);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string uid;
    fields >> uid;
    if (uid == "100") found.push_back(line);
  }
  return found;
}

std::vector<std::string> sandboxProcessesAfter(const std::string& containerId, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto left = sandboxProcesses(containerId);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the container from outside
    left = sandboxProcesses(containerId);
  }
  return left;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string randomMarker(const std::string& prefix) { return prefix + detail::randomHex(6); }

std::string countMarked(const std::string& marker) {
  const std::string pattern = marker.substr(0, marker.size() - 1) + "[" + marker.back() + "]";
  return "$(pgrep -u 100 -f '" + pattern + "' | wc -l)";
}

}  // namespace isol8::test
