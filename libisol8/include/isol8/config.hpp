// Configuration: isol8.config.json (in the working directory) or ~/.isol8/config.json, over
// built-in defaults. docs/configuration.md lists every key and where it applies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isol8/network_policy.hpp"
#include "isol8/options.hpp"

namespace isol8 {

// Limits and modes a run gets unless the request or a flag says otherwise.
struct ExecutionDefaults {
  std::int64_t timeoutMs = 30000;
  std::string memoryLimit = "512m";
  double cpuLimit = 1.0;
  NetworkMode network = NetworkMode::none;
  std::string sandboxSize = "512m";  // tmpfs /sandbox
  std::string tmpSize = "256m";      // tmpfs /tmp
  bool readonlyRootFs = true;
  std::int64_t maxFileSize = 33554432;  // bytes read back per request (getFile, outputPaths)
};

struct CleanupConfig {
  bool autoPrune = true;                   // the server prunes idle sessions
  std::int64_t maxContainerAgeMs = 3600000;  // idle time after which a session is pruned
  std::int64_t removalRetryMs = 1000;        // first retry of a failed container removal
  std::int64_t removalRetryMaxMs = 60000;    // the retries' longest pause
};

// The Docker Engine API client.
struct DockerConfig {
  std::int64_t timeoutMs = 30000;  // the longest any one API call may take
};

// The remote-code policy (isol8/network_policy.hpp) under its config-file name.
using RemoteCodeConfig = RemoteCodePolicy;

struct AuditConfig {
  bool enabled = false;
  std::string destination = "filesystem";  // filesystem | file | stdout
  std::optional<std::string> logDir;
  std::optional<std::string> postLogScript;
  bool trackResources = true;
  std::int64_t retentionDays = 90;
  bool includeCode = false;
  bool includeOutput = false;
};

// Database-backed API keys of the server.
struct AuthConfig {
  bool enabled = false;
  std::optional<std::string> connectionString;  // unset: ~/.isol8/auth.db (SQLite)
  std::int64_t defaultTtlMs = 86400000;
  std::int64_t cleanupIntervalMs = 3600000;
};

// isol8-server's policy: what a client's `options` may ask for. A client option beyond it is
// refused with 403 (docs/http-api.md, "Server policy"). Unset maxima are the server's own
// defaults (defaults.*, and the engine's pidsLimit 64 and maxOutputSize 1 MiB): by default a
// client may ask for less, never for more.
struct ServerPolicy {
  bool allowHostNetwork = false;        // options.network "host"
  // options.network "filtered" when the server's own network is none and it has no whitelist
  // (filtered with an empty whitelist reaches every public host: a widening of none).
  bool allowFilteredNetwork = false;
  bool allowCustomSeccomp = false;      // options.security.seccomp "unconfined" or "custom"
  bool allowPersist = false;            // options.persist (containers left running)
  std::vector<std::string> allowedImages;  // exact names options.image may take
  std::optional<std::string> maxMemoryLimit;
  std::optional<double> maxCpuLimit;
  std::optional<std::int64_t> maxTimeoutMs;  // also request.timeoutMs
  std::optional<std::int64_t> maxPidsLimit;
  std::optional<std::int64_t> maxOutputSize;
  std::optional<std::string> maxSandboxSize;
  std::optional<std::string> maxTmpSize;
  std::int64_t sseKeepAliveMs = 15000;  // a `: keep-alive` comment after this much silence
  std::int64_t pruneIntervalMs = 60000;  // how often idle sessions are looked for
  // Limits against starving the server (docs/configuration.md, docs/security.md).
  std::int64_t maxConnections = 1024;      // open client connections; past it new ones are closed at once
  std::int64_t maxConnectionsPerIp = 256;  // the same, per client address
  std::int64_t headerTimeoutMs = 10000;    // a request's header must be complete this long after it began
  std::string maxBodySize = "64m";         // one request's body (413 beyond)
  std::string maxBodiesInFlight = "256m";  // bodies held at once, all connections (503 beyond)
  std::int64_t maxEngines = 8;             // engines for distinct `options` sets (503 beyond)
  std::int64_t maxSessions = 100;          // sessions, all tenants (429 beyond)
  std::int64_t maxSessionsPerTenant = 20;  // sessions of one tenant (or of the master key)
  std::int64_t rateLimitPerMinute = 6000;  // requests per API key; 0: no limit (429 + Retry-After beyond)
  // How often the server removes leftovers of its own (label isol8.owner) whose engine is gone.
  std::int64_t sweepIntervalMs = 60000;
  // Runtimes whose warm pools are filled at startup (python first); [] fills none.
  std::vector<std::string> prewarm{"python", "node", "bun", "deno", "bash"};
};

// A custom image that `isol8 setup` and the server build when it is missing.
struct PrebuiltImage {
  std::string tag;
  std::string runtime;
  std::vector<std::string> installPackages;
  std::optional<std::string> setupScript;
};

struct Config {
  bool debug = false;
  int maxConcurrent = 10;
  ExecutionDefaults defaults;
  NetworkFilter network;
  PackageRegistries registries = defaultPackageRegistries();  // network.registries
  CleanupConfig cleanup;
  DockerConfig docker;
  PoolStrategy poolStrategy = PoolStrategy::fast;
  PoolSize poolSize;
  SecurityOptions security;  // customProfilePath empty: unset
  RemoteCodeConfig remoteCode;
  AuditConfig audit;
  AuthConfig auth;
  ServerPolicy server;
  std::vector<PrebuiltImage> prebuiltImages;

  // The file the values came from; empty when they are the built-in defaults.
  std::string source;
};

// The first existing file of <cwd>/isol8.config.json and $HOME/.isol8/config.json (no merging
// between the two), over the defaults; the defaults alone when neither exists.
// Throws Error(invalid_request) naming the file and the key when the file is not valid.
Config loadConfig(const std::filesystem::path& cwd = std::filesystem::current_path());

// Parses a config file's text over the defaults: sections (defaults, cleanup, remoteCode,
// audit, auth, security) are merged key by key, lists and scalars replace, unknown keys are
// ignored, a null value keeps the default. Types, ranges, enum values, sizes and patterns are
// checked; `source` names the file in error messages and becomes Config::source:
//   Invalid config file <source>: defaults.timeoutMs must be a positive number
Config parseConfig(std::string_view json, std::string source);

// The configuration as JSON with a 2-space indent and no final newline (what `isol8 config --json` prints); unset
// optional keys are omitted and `source` is not included. parseConfig reads it back.
std::string toJson(const Config& config);

// The options of a local engine that the configuration sets: defaults.* (except
// readonlyRootFs: the root is always read-only), security, poolStrategy, poolSize,
// maxConcurrent, debug and remoteCode.
EngineOptions engineOptionsFrom(const Config& config);

}  // namespace isol8
