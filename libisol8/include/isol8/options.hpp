// Options of a local engine (DockerIsol8), with the original isol8's defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "isol8/log.hpp"
#include "isol8/network_policy.hpp"

namespace isol8 {

enum class NetworkMode { none, host, filtered };
enum class SeccompMode { strict, unconfined, custom };
// ephemeral: a (pooled) container per run. persistent: one container per engine, kept
// between runs (files in /sandbox and /tmp survive; processes, IPC objects and interpreter
// state do not).
enum class ExecutionMode { ephemeral, persistent };
// fast: after a run the container is cleaned (and proved clean) in the background, then reused
// for runs of the same tenant only. secure: single use; destroyed after its run and replaced
// in the background.
enum class PoolStrategy { fast, secure };

struct SecurityOptions {
  SeccompMode seccomp = SeccompMode::strict;
  std::string customProfilePath;  // with SeccompMode::custom
};

// Warm containers per image: `clean` fresh ones kept ready; up to `clean + dirty` used ones
// kept for reuse by their tenant (fast).
struct PoolSize {
  int clean = 1;
  int dirty = 1;
};

// Per runtime, the host names of its package registry: in filtered mode an install step (and
// only it) may reach them. From the engine's configuration, never from the sandbox or image.
using PackageRegistries = std::map<std::string, std::vector<std::string>>;
// python: pypi.org, files.pythonhosted.org; node, bun: registry.npmjs.org; deno: jsr.io,
// registry.npmjs.org; bash: none.
PackageRegistries defaultPackageRegistries();

struct EngineOptions {
  ExecutionMode mode = ExecutionMode::ephemeral;
  NetworkMode network = NetworkMode::none;
  NetworkFilter networkFilter;  // filtered mode: which hosts the egress proxy lets through
  bool logNetwork = false;      // filtered mode: ExecutionResult::networkLogs
  RemoteCodePolicy remoteCode;  // codeUrl
  double cpuLimit = 1.0;
  std::string memoryLimit = "512m";
  std::int64_t pidsLimit = 64;
  std::int64_t maxOutputSize = 1048576;  // bytes, per stream
  // Bytes read back from the sandbox per request: getFile's file, or outputPaths together.
  // The sandbox decides what is there, so the host holds no more than this of it.
  std::int64_t maxFileSize = 33554432;
  std::int64_t timeoutMs = 30000;
  std::string image;                     // overrides isol8:<runtime> (and custom-image discovery)
  std::string sandboxSize = "512m";      // tmpfs /sandbox (exec)
  std::string tmpSize = "256m";          // tmpfs /tmp (noexec)
  SecurityOptions security;
  // Environment of the code's process only (never the container's), masked as *** in output.
  std::map<std::string, std::string> secrets;
  PoolStrategy poolStrategy = PoolStrategy::fast;
  PoolSize poolSize;
  int maxConcurrent = 10;  // runs in flight at once; more wait for a slot
  int maxReuse = 100;      // a pooled container is replaced after this many runs
  // The engine's diagnostic lines: to logSink when set (debug or not; the sink decides what
  // to keep), else to stderr as [DEBUG]/[WARN] lines when debug is true, else nowhere. Per
  // engine: another engine in the process logs by its own options. Not sent by RemoteIsol8.
  bool debug = false;
  LogSink logSink;
  bool persist = false;  // keep the container after the run (for inspection)
  // isol8-server's session id: put on the engine's containers as label isol8.session.
  std::string sessionLabel;
  PackageRegistries registries = defaultPackageRegistries();
  // Every Docker Engine API call must be answered within this (a frozen engine fails the
  // call with Error(docker_unavailable) instead of hanging it); ms.
  std::int64_t dockerTimeoutMs = 30000;
  // A container whose removal failed is asked again after this, doubling up to the maximum,
  // for as long as the engine lives; ms.
  std::int64_t removalRetryMs = 1000;
  std::int64_t removalRetryMaxMs = 60000;
  // Label isol8.owner of the engine's containers, and the name of the lock that says the
  // owner is alive (cleanup spares a live owner's containers). Empty: the engine's own id.
  // isol8-server sets one stable across its restarts, to sweep what a killed run left.
  std::string owner;
};

// Parses "none" / "host" / "filtered"; nullopt for anything else.
std::optional<NetworkMode> parseNetworkMode(const std::string& text);
const char* toString(NetworkMode mode);
std::optional<PoolStrategy> parsePoolStrategy(const std::string& text);
const char* toString(PoolStrategy strategy);
std::optional<SeccompMode> parseSeccompMode(const std::string& text);
const char* toString(SeccompMode mode);

}  // namespace isol8
