// The request, result and event types shared by every engine. Field names follow the
// original isol8's camelCase vocabulary so docs, library and HTTP API say the same thing.
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
  std::string code;     // exactly one of code / cmd must be set
  std::string cmd;      // run as `bash -c <cmd>` in the runtime's image
  std::optional<std::int64_t> timeoutMs;    // overrides EngineOptions::timeoutMs
  std::map<std::string, std::string> env;   // extra environment of the code's process
  std::string fileExtension;                // e.g. ".cjs"; default: the runtime's own
  std::optional<std::string> stdin;         // bytes piped to the process's standard input
  std::string workdir;                      // default /sandbox; must stay inside /sandbox
  std::map<std::string, std::string> metadata;
};

struct ExecutionResult {
  std::string stdout;  // exactly as produced (capped at maxOutputSize, see `truncated`)
  std::string stderr;
  int exitCode = 0;
  std::int64_t durationMs = 0;  // wall time of the code's process
  bool truncated = false;
  std::string executionId;  // random UUID v4
  std::string runtime;
  std::string timestamp;  // ISO 8601, UTC, taken when the run ended
  std::string containerId;
  bool timedOut = false;   // the run hit timeoutMs and was killed (exitCode 137)
  bool oomKilled = false;  // the kernel's OOM killer killed a process of the run
};

// One piece of a streamed run.
struct StreamEvent {
  enum class Type { stdout, stderr, exit, error };
  enum class Phase { setup, code };
  Type type;
  std::string data;  // output bytes, the exit code as decimal text, or an error message
  Phase phase = Phase::code;
};

const char* toString(StreamEvent::Type type);
const char* toString(StreamEvent::Phase phase);

}  // namespace isol8
