// The request, result and event types shared by every engine. Field names follow the
// original isol8's camelCase vocabulary so docs, library and HTTP API say the same thing,
// except for the three standard streams: `stdin`, `stdout` and `stderr` are macros in the C
// library (musl, MSVC), so here they are `stdinText`, `stdoutText`, `stderrText` and the event
// types `stdout_data`, `stderr_data`. JSON keys and wire strings stay "stdin", "stdout", "stderr".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace isol8 {

// One piece of code (or a shell command) to run in a sandbox.
struct ExecutionRequest {
  std::string runtime;  // python, node, bun, deno, bash
  std::string code;     // exactly one of code / codeUrl / cmd must be set
  std::string cmd;      // run as `bash -c <cmd>` in the runtime's image
  // Code fetched from a URL by the engine (EngineOptions::remoteCode decides what is allowed);
  // codeHash: expected SHA-256 (hex) of the fetched text.
  std::string codeUrl;
  std::string codeHash;
  bool allowInsecureCodeUrl = false;  // permit http:// (the scheme must also be allowed)
  std::optional<std::int64_t> timeoutMs;    // overrides EngineOptions::timeoutMs
  std::map<std::string, std::string> env;   // extra environment of the code's process
  std::string fileExtension;                // e.g. ".cjs"; default: the runtime's own
  std::optional<std::string> stdinText;     // bytes piped to the process's standard input
  std::string workdir;                      // default /sandbox; must stay inside /sandbox
  // Files written before anything runs: absolute path (under /sandbox or /tmp) → bytes.
  // Parent directories are created.
  std::map<std::string, std::string> files;
  // Files read back after the run into ExecutionResult::files (missing ones are left out).
  std::vector<std::string> outputPaths;
  // Packages installed with the runtime's package manager before the code runs (skipped
  // when a custom image already has them). Needs network.
  std::vector<std::string> installPackages;
  // Bash script run as the sandbox user before the code (after the image's own setup script).
  std::string setupScript;
  std::map<std::string, std::string> metadata;
  // Whom the run is for. Runs of different tenants never share a container (isol8-server
  // sets the caller: a key's tenant, or the master key). Not part of the wire format.
  std::string tenant;
};

// One request through the egress proxy (filtered mode, logNetwork).
struct NetworkLogEntry {
  std::string timestamp;  // ISO 8601
  std::string method;     // CONNECT, GET, ...
  std::string host;
  std::optional<std::string> path;  // nullopt for CONNECT
  std::string action;               // ALLOW or BLOCK
  std::int64_t durationMs = 0;
};

// Something the sandbox tried that a policy refused (what the audit log records).
struct SecurityEvent {
  std::string type;  // network_blocked
  std::string message;
  std::map<std::string, std::string> details;  // method, host, reason
  std::string timestamp;
};

// What a run's processes used, as the kernel counted them for the processes the container's
// supervisor reaped (the code's process and any it left behind).
struct ResourceUsage {
  std::int64_t cpuUserMs = 0;
  std::int64_t cpuSystemMs = 0;
  std::int64_t peakMemoryBytes = 0;  // the largest resident set of one process of the run
  std::int64_t wallMs = 0;           // from the code's process start to its exit
};

struct ExecutionResult {
  std::string stdoutText;  // exactly as produced (capped at maxOutputSize, see `truncated`)
  std::string stderrText;
  int exitCode = 0;
  std::int64_t durationMs = 0;  // wall time of the code's process
  bool truncated = false;
  std::string executionId;  // random UUID v4
  std::string runtime;
  std::string timestamp;  // ISO 8601, UTC, taken when the run ended
  std::string containerId;
  bool timedOut = false;   // the run hit timeoutMs and was killed (exitCode 137)
  bool oomKilled = false;  // the kernel's OOM killer killed a process of the run
  // The request's outputPaths that existed: path → bytes (base64 on the wire).
  std::map<std::string, std::string> files;
  std::vector<NetworkLogEntry> networkLogs;    // filtered mode with logNetwork
  std::vector<SecurityEvent> securityEvents;   // filtered mode: blocked requests
  ResourceUsage resourceUsage;                 // of the code's step (not install or setup)
};

// One piece of a streamed run.
struct StreamEvent {
  enum class Type { stdout_data, stderr_data, exit, error };  // on the wire: stdout, stderr, ...
  enum class Phase { setup, code };
  Type type;
  std::string data;  // output bytes, the exit code as decimal text, or an error message
  Phase phase = Phase::code;
};

const char* toString(StreamEvent::Type type);
const char* toString(StreamEvent::Phase phase);

}  // namespace isol8
