// Helpers for the integration tests: run the real isol8 binary, run docker CLI queries.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isol8/docker_isol8.hpp"

namespace isol8::test {

struct CommandResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Environment variables to set (a value) or remove (nullopt) for a child process.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

// Runs a program with `input` on its stdin (nullopt: /dev/null) and captures both streams;
// `cwd` (empty: the test's own) is its working directory; `env` changes the test's environment.
CommandResult runProgram(const std::vector<std::string>& argv, const std::optional<std::string>& input = std::nullopt,
                         const std::string& cwd = {}, const EnvChanges& env = {});

// Runs the isol8 CLI built by this tree.
CommandResult runCli(std::vector<std::string> args, const std::optional<std::string>& input = std::nullopt,
                     const std::string& cwd = {}, const EnvChanges& env = {});

// Ids of the containers (any state) carrying `label` (e.g. "isol8.engine=<id>").
std::vector<std::string> containersWithLabel(const std::string& label);

// Requests as the tests write them: code in a runtime, or a shell command (bash -c).
ExecutionRequest codeRequest(const std::string& runtime, const std::string& code);
ExecutionRequest shellRequest(const std::string& cmd);

// A buffered execute with small limits, for tests.
ExecutionResult runCode(const std::string& runtime, const std::string& code, EngineOptions options = {});

// A temporary directory removed at the end of the test.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
  std::string write(const std::string& name, const std::string& content) const;
};

// A program running in the background for the length of a test (a server the test talks
// to); killed (SIGTERM, then SIGKILL) when destroyed. Output goes to files in a temp dir.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv, const EnvChanges& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  int pid() const { return pid_; }
  std::string output() const;  // stdout and stderr so far

 private:
  int pid_ = -1;
  std::string logPath_;
};

// A plain HTTP server on 0.0.0.0:<port> serving hello.txt ("hello from the test server\n") for
// the length of a test; it logs every request it gets, so a test can tell what reached it.
struct HelloServer {
  HelloServer();
  std::string url(const std::string& host, const std::string& path = "/hello.txt") const;
  bool saw(const std::string& path) const;  // a GET of `path` arrived
  TempDir dir;
  int port;
  std::unique_ptr<BackgroundProcess> process;
};

// Options of a filtered engine for tests that reach a HelloServer through the egress proxy:
// the host patterns, CIDRs exempt from the address rule (loopback for a HelloServer), and
// networkLogs on.
EngineOptions filteredOptions(std::vector<std::string> allow, std::vector<std::string> deny,
                              std::vector<std::string> allowedAddresses);
// A shell command: curl through the proxy (HTTP_PROXY is set in the sandbox) with `args`,
// printing the HTTP status last (" 200\n").
std::string proxyCurl(const std::string& args);

// A TCP port on 127.0.0.1 that was free a moment ago.
int freeLoopbackPort();
// Waits (up to `seconds`) until something accepts connections on 127.0.0.1:port.
bool waitForPort(int port, int seconds = 20);

// The sandbox user's (uid 100) processes in a container as `docker top` lines; empty when there
// are none or the container is gone. ...After polls (up to `limit`) until none is left and
// returns what is still there then.
std::vector<std::string> sandboxProcesses(const std::string& containerId);
std::vector<std::string> sandboxProcessesAfter(const std::string& containerId, std::chrono::milliseconds limit);
std::string joined(const std::vector<std::string>& lines);  // each line + "\n"
// A word unique to this test run, to find its processes by; and a shell expression counting
// the sandbox user's processes whose command line holds it (bracketed so the counting shell
// does not match itself).
std::string randomMarker(const std::string& prefix);
std::string countMarked(const std::string& marker);

}  // namespace isol8::test
