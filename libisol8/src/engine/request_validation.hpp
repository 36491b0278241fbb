// Checks of a request and its limits before anything touches Docker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isol8/options.hpp"
#include "isol8/types.hpp"

namespace isol8::detail {

// "512m", "1g", "256k", "1024", "512mb", "1.5g" (case-insensitive, units are powers of 1024,
// an optional trailing b). Throws Error(invalid_request):
//   Invalid memory limit format: "<v>". Use e.g. "512m", "1g".
std::int64_t parseMemoryLimit(std::string_view text);

// Same grammar for tmpfs sizes; the message names the option:
//   Invalid <what> format: "<v>". Use e.g. "512m", "1g".
std::int64_t parseSize(std::string_view text, std::string_view what);

// Docker's NanoCpus for a cpuLimit (floor(cpu * 1e9), saturating). Docker refuses less than
// kMinNanoCpus (0.01 CPU) and reads 0 as "no limit", so smaller values are refused earlier.
std::int64_t nanoCpus(double cpuLimit);
constexpr std::int64_t kMinNanoCpus = 10'000'000;

// Resolves `workdir` against `root` like path.posix.resolve (".." folded, relative to root).
// Empty means root. Throws Error(invalid_request): Working directory must be inside /sandbox
std::string resolveWorkdir(std::string_view workdir, std::string_view root = "/sandbox");

// A path of an injected or read-back file, normalized (".." folded). It must be absolute and
// inside /sandbox or /tmp, else Error(invalid_request):
//   File path must be absolute and inside /sandbox or /tmp: "<p>"
std::string resolveSandboxPath(std::string_view path);

// Exactly one of code / codeUrl / cmd (whitespace-only counts as absent), else Error(invalid_request):
//   ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive — provide exactly one.
//   ExecutionRequest must include exactly one of: code, codeUrl, or cmd.
// Also checks the runtime name, timeoutMs > 0, env names (non-empty, no '=' or NUL), file
// paths and package names.
void validateRequest(const ExecutionRequest& request);

// Package names for installs and custom images: ^[@a-zA-Z0-9_./\-=]+$ (no shell, no spaces,
// so `numpy; rm -rf /` cannot reach a shell). Throws Error(invalid_request):
//   Invalid package name: "<n>". Only alphanumeric, -, _, ., /, @, and = are allowed.
void validatePackageName(std::string_view name);

// Checks engine options (memory, sizes, cpu >= 0.01, pids > 0 (Docker reads 0 as unlimited), maxOutputSize > 0, timeoutMs > 0,
// network filtered → Error(not_supported)).
void validateOptions(const EngineOptions& options);

}  // namespace isol8::detail
