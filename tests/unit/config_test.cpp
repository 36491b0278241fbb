#include "isol8/config.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "test_support.hpp"

using isol8::Config;
using isol8::errc;
using isol8::loadConfig;
using isol8::parseConfig;
using isol8::toJson;

namespace fs = std::filesystem;

namespace {

// A temporary directory that is also $HOME for the test's duration, so the developer's own
// ~/.isol8/config.json never leaks into a result.
struct TempHome {
  TempHome() {
    std::string templ = (fs::temp_directory_path() / "isol8-config-XXXXXX").string();
    root = mkdtemp(templ.data());
    home = root / "home";
    cwd = root / "project";
    fs::create_directories(home);
    fs::create_directories(cwd);
    if (const char* old = std::getenv("HOME")) oldHome = old;
    setenv("HOME", home.c_str(), 1);
  }
  ~TempHome() {
    if (oldHome) setenv("HOME", oldHome->c_str(), 1);
    else unsetenv("HOME");
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path root, home, cwd;
  std::optional<std::string> oldHome;
};

std::string invalid(const std::string& detail) { return "Invalid config file /x/isol8.config.json: " + detail; }
Config parse(const std::string& text) { return parseConfig(text, "/x/isol8.config.json"); }

}  // namespace

TEST_CASE("config: the defaults of the original", "[config]") {
  const Config c;
  CHECK(c.debug == false);
  CHECK(c.maxConcurrent == 10);
  CHECK(c.defaults.timeoutMs == 30000);
  CHECK(c.defaults.memoryLimit == "512m");
  CHECK(c.defaults.cpuLimit == 1.0);
  CHECK(c.defaults.network == isol8::NetworkMode::none);
  CHECK(c.defaults.sandboxSize == "512m");
  CHECK(c.defaults.tmpSize == "256m");
  CHECK(c.defaults.readonlyRootFs == true);
  CHECK(c.network.whitelist.empty());
  CHECK(c.network.blacklist.empty());
  CHECK(c.cleanup.autoPrune == true);
  CHECK(c.cleanup.maxContainerAgeMs == 3600000);
  CHECK(c.poolStrategy == isol8::PoolStrategy::fast);
  CHECK(c.poolSize.clean == 1);
  CHECK(c.poolSize.dirty == 1);
  CHECK(c.security.seccomp == isol8::SeccompMode::strict);
  CHECK(c.remoteCode.enabled == false);
  CHECK(c.remoteCode.allowedSchemes == std::vector<std::string>{"https"});
  CHECK(c.remoteCode.allowedHosts.empty());
  CHECK(c.remoteCode.blockedHosts.size() == 10);
  CHECK(c.remoteCode.blockedHosts.front() == "^localhost$");
  CHECK(c.remoteCode.maxCodeSize == 10485760);
  CHECK(c.remoteCode.fetchTimeoutMs == 30000);
  CHECK(c.remoteCode.requireHash == false);
  CHECK(c.remoteCode.cacheTtl == 3600);
  CHECK(c.audit.enabled == false);
  CHECK(c.audit.destination == "filesystem");
  CHECK(c.audit.retentionDays == 90);
  CHECK_FALSE(c.audit.logDir.has_value());
  CHECK(c.auth.enabled == false);
  CHECK(c.auth.defaultTtlMs == 86400000);
  CHECK(c.auth.cleanupIntervalMs == 3600000);
  CHECK_FALSE(c.auth.connectionString.has_value());
  CHECK(c.prebuiltImages.empty());
  CHECK(c.source.empty());
}

TEST_CASE("config: no file anywhere gives the defaults with an empty source", "[config]") {
  TempHome t;
  const Config c = loadConfig(t.cwd);
  CHECK(c.source.empty());
  CHECK(c.maxConcurrent == 10);
  CHECK(c.defaults.timeoutMs == 30000);
}

TEST_CASE("config: a file in the working directory overrides some keys and keeps the other defaults", "[config]") {
  TempHome t;
  TempHome::write(t.cwd / "isol8.config.json", R"({
    "maxConcurrent": 4,
    "defaults": {"timeoutMs": 10000},
    "cleanup": {"autoPrune": false},
    "remoteCode": {"enabled": true},
    "debug": true
  })");
  const Config c = loadConfig(t.cwd);
  CHECK(c.source == (t.cwd / "isol8.config.json").string());
  CHECK(c.maxConcurrent == 4);
  CHECK(c.debug == true);
  CHECK(c.defaults.timeoutMs == 10000);
  CHECK(c.defaults.memoryLimit == "512m");          // same section, not named: default
  CHECK(c.defaults.network == isol8::NetworkMode::none);
  CHECK(c.cleanup.autoPrune == false);
  CHECK(c.cleanup.maxContainerAgeMs == 3600000);    // shallow merge keeps the sibling
  CHECK(c.remoteCode.enabled == true);
  CHECK(c.remoteCode.allowedSchemes == std::vector<std::string>{"https"});
  CHECK(c.remoteCode.blockedHosts.size() == 10);
  CHECK(c.poolStrategy == isol8::PoolStrategy::fast);
}

TEST_CASE("config: the working directory's file wins over the home file, without merging", "[config]") {
  TempHome t;
  TempHome::write(t.home / ".isol8" / "config.json", R"({"maxConcurrent": 3, "debug": true})");
  SECTION("home file alone is used") {
    const Config c = loadConfig(t.cwd);
    CHECK(c.source == (t.home / ".isol8" / "config.json").string());
    CHECK(c.maxConcurrent == 3);
    CHECK(c.debug == true);
  }
  SECTION("cwd file wins and the home file's keys do not leak in") {
    TempHome::write(t.cwd / "isol8.config.json", R"({"maxConcurrent": 7})");
    const Config c = loadConfig(t.cwd);
    CHECK(c.source == (t.cwd / "isol8.config.json").string());
    CHECK(c.maxConcurrent == 7);
    CHECK(c.debug == false);
  }
}

TEST_CASE("config: poolSize as a number and as an object, poolStrategy secure", "[config]") {
  const Config number = parse(R"({"poolSize": 3, "poolStrategy": "secure"})");
  CHECK(number.poolSize.clean == 3);
  CHECK(number.poolSize.dirty == 3);
  CHECK(number.poolStrategy == isol8::PoolStrategy::secure);
  const Config object = parse(R"({"poolSize": {"clean": 2, "dirty": 5}})");
  CHECK(object.poolSize.clean == 2);
  CHECK(object.poolSize.dirty == 5);
  const Config partial = parse(R"({"poolSize": {"dirty": 0}})");
  CHECK(partial.poolSize.clean == 1);
  CHECK(partial.poolSize.dirty == 0);
}

TEST_CASE("config: lists replace the default lists", "[config]") {
  const Config c = parse(R"({"remoteCode": {"allowedSchemes": ["https", "http"], "blockedHosts": []},
                             "network": {"whitelist": ["^pypi\\.org$"], "blacklist": ["evil"]}})");
  CHECK(c.remoteCode.allowedSchemes == std::vector<std::string>{"https", "http"});
  CHECK(c.remoteCode.blockedHosts.empty());
  CHECK(c.network.whitelist == std::vector<std::string>{"^pypi\\.org$"});
  CHECK(c.network.blacklist == std::vector<std::string>{"evil"});
}

TEST_CASE("config: unknown keys and null values are ignored", "[config]") {
  const Config c = parse(R"({"$schema": "./schema.json", "dependencies": {"python": ["numpy"]},
                             "defaults": {"timeoutMs": null, "sandboxFsSize": "1g"}, "security": {"extra": 1}})");
  CHECK(c.defaults.timeoutMs == 30000);
  CHECK(c.security.seccomp == isol8::SeccompMode::strict);
}

TEST_CASE("config: invalid JSON names the file and the position", "[config][errors]") {
  REQUIRE_ISOL8_ERROR(parse("{\"maxConcurrent\": 4,\n  oops}"), errc::invalid_request,
                      invalid("invalid JSON at line 2, column 3: syntax error"));
  CHECK_THROWS_WITH(parse(""), Catch::StartsWith("Invalid config file /x/isol8.config.json: invalid JSON at line 1"));
  REQUIRE_ISOL8_ERROR(parse("[1, 2]"), errc::invalid_request, invalid("the top level must be a JSON object"));
}

TEST_CASE("config: invalid JSON in a discovered file names that file", "[config][errors]") {
  TempHome t;
  TempHome::write(t.cwd / "isol8.config.json", "{not json");
  const std::string prefix = "Invalid config file " + (t.cwd / "isol8.config.json").string() + ": invalid JSON";
  CHECK_THROWS_WITH(loadConfig(t.cwd), Catch::StartsWith(prefix));
}

TEST_CASE("config: wrong types and values name the key", "[config][errors]") {
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"timeoutMs": "10s"}})"), errc::invalid_request,
                      invalid("defaults.timeoutMs must be a positive number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"timeoutMs": 0}})"), errc::invalid_request,
                      invalid("defaults.timeoutMs must be a positive number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"timeoutMs": 1.5}})"), errc::invalid_request,
                      invalid("defaults.timeoutMs must be a whole number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"maxConcurrent": true})"), errc::invalid_request,
                      invalid("maxConcurrent must be a positive number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"debug": "yes"})"), errc::invalid_request, invalid("debug must be true or false"));
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": 5})"), errc::invalid_request, invalid("defaults must be an object"));
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"memoryLimit": "lots"}})"), errc::invalid_request,
                      invalid(R"(defaults.memoryLimit must be a size such as "512m" or "1g", got "lots")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"cpuLimit": -1}})"), errc::invalid_request,
                      invalid("defaults.cpuLimit must be a positive number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"network": {"whitelist": "pypi.org"}})"), errc::invalid_request,
                      invalid("network.whitelist must be a list of strings"));
  REQUIRE_ISOL8_ERROR(parse(R"({"network": {"blacklist": ["ok", 3]}})"), errc::invalid_request,
                      invalid("network.blacklist[1] must be a string"));
  CHECK_THROWS_WITH(parse(R"({"network": {"whitelist": ["(unclosed"]}})"),
                    Catch::StartsWith(invalid("network.whitelist[0] is not a valid regular expression")));
  REQUIRE_ISOL8_ERROR(parse(R"({"poolSize": -1})"), errc::invalid_request,
                      invalid("poolSize must be a number, 0 or more"));
  REQUIRE_ISOL8_ERROR(parse(R"({"poolSize": "big"})"), errc::invalid_request,
                      invalid(R"(poolSize must be a number or an object {"clean": n, "dirty": n})"));
}

TEST_CASE("config: enum values are checked", "[config][errors]") {
  REQUIRE_ISOL8_ERROR(parse(R"({"defaults": {"network": "bridge"}})"), errc::invalid_request,
                      invalid(R"(defaults.network must be one of none, host, filtered, got "bridge")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"poolStrategy": "quick"})"), errc::invalid_request,
                      invalid(R"(poolStrategy must be one of fast, secure, got "quick")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"security": {"seccomp": "safety"}})"), errc::invalid_request,
                      invalid(R"(security.seccomp must be one of strict, unconfined, custom, got "safety")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"security": {"seccomp": "custom"}})"), errc::invalid_request,
                      invalid(R"(security.customProfilePath is required when security.seccomp is "custom")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"audit": {"destination": "s3"}})"), errc::invalid_request,
                      invalid(R"(audit.destination must be one of filesystem, file, stdout, got "s3")"));
  REQUIRE_ISOL8_ERROR(parse(R"({"prebuiltImages": [{"tag": "my:py", "runtime": "ruby", "installPackages": []}]})"),
                      errc::invalid_request,
                      invalid(R"(prebuiltImages[0].runtime must be one of python, node, bun, bash, deno, got "ruby")"));
  CHECK_THROWS_WITH(parse(R"({"prebuiltImages": [{"tag": "my:py", "runtime": "python", "installPackages": ["a; rm -rf /"]}]})"),
                    Catch::StartsWith(invalid("prebuiltImages[0].installPackages[0]: Invalid package name")));
}

TEST_CASE("config: the source is not part of an error for defaults-only text", "[config][errors]") {
  REQUIRE_ISOL8_ERROR(parseConfig(R"({"debug": 1})", ""), errc::invalid_request, "Invalid config: debug must be true or false");
}

TEST_CASE("config: the server's limits against starvation, their defaults and checks", "[config]") {
  using isol8::ServerPolicy;
  struct Limit {
    std::int64_t ServerPolicy::*member;
    std::int64_t byDefault;
    std::int64_t set;  // the value the file below gives it
  };
  const Limit limits[] = {{&ServerPolicy::maxConnections, 1024, 6},    {&ServerPolicy::maxConnectionsPerIp, 256, 2},
                          {&ServerPolicy::headerTimeoutMs, 10000, 500}, {&ServerPolicy::maxEngines, 8, 1},
                          {&ServerPolicy::maxSessions, 100, 4},         {&ServerPolicy::maxSessionsPerTenant, 20, 3},
                          {&ServerPolicy::rateLimitPerMinute, 6000, 0}};
  const Config d = parse("{}");
  const Config c = parse(R"({"server": {"maxConnections": 6, "maxConnectionsPerIp": 2, "headerTimeoutMs": 500,
    "maxBodySize": "1m", "maxBodiesInFlight": "3m", "maxEngines": 1, "maxSessions": 4, "maxSessionsPerTenant": 3,
    "rateLimitPerMinute": 0}})");
  for (const auto& limit : limits) {
    CHECK(d.server.*limit.member == limit.byDefault);
    CHECK(c.server.*limit.member == limit.set);
  }
  CHECK(d.server.maxBodySize == "64m");
  CHECK(d.server.maxBodiesInFlight == "256m");
  CHECK(c.server.maxBodySize == "1m");
  CHECK(c.server.maxBodiesInFlight == "3m");
  CHECK(toJson(parseConfig(toJson(c), "x")) == toJson(c));
  REQUIRE_ISOL8_ERROR(parse(R"({"server": {"maxEngines": 0}})"), errc::invalid_request,
                      invalid("server.maxEngines must be a positive number"));
  REQUIRE_ISOL8_ERROR(parse(R"({"server": {"rateLimitPerMinute": -1}})"), errc::invalid_request,
                      invalid("server.rateLimitPerMinute must be a number, 0 or more"));
  REQUIRE_ISOL8_ERROR(parse(R"({"server": {"maxBodySize": "huge"}})"), errc::invalid_request,
                      invalid(R"(server.maxBodySize must be a size such as "512m" or "1g", got "huge")"));
}

TEST_CASE("config: toJson prints every key with a 2-space indent and round-trips", "[config][json]") {
  Config c = parse(R"({
    "debug": true, "maxConcurrent": 2,
    "defaults": {"timeoutMs": 5000, "memoryLimit": "1g", "cpuLimit": 0.5, "network": "filtered",
                 "sandboxSize": "64m", "tmpSize": "32m", "readonlyRootFs": false},
    "network": {"whitelist": ["^pypi\\.org$"], "blacklist": ["^evil\\.com$"]},
    "cleanup": {"autoPrune": false, "maxContainerAgeMs": 60000},
    "poolStrategy": "secure", "poolSize": {"clean": 2, "dirty": 3},
    "security": {"seccomp": "custom", "customProfilePath": "/etc/isol8/profile.json"},
    "remoteCode": {"enabled": true, "allowedSchemes": ["https", "http"], "allowedHosts": ["^raw\\.githubusercontent\\.com$"],
                   "blockedHosts": ["^localhost$"], "maxCodeSize": 1024, "fetchTimeoutMs": 500,
                   "requireHash": true, "enableCache": false, "cacheTtl": 0},
    "audit": {"enabled": true, "destination": "stdout", "logDir": "/var/log/isol8", "postLogScript": "/bin/true",
              "trackResources": false, "retentionDays": 7, "includeCode": true, "includeOutput": true},
    "auth": {"enabled": true, "connectionString": "postgres://db/isol8", "defaultTtlMs": 1000, "cleanupIntervalMs": 2000},
    "prebuiltImages": [{"tag": "my-py:latest", "runtime": "python", "installPackages": ["numpy"], "setupScript": "echo hi"}]
  })");
  const std::string text = toJson(c);
  CHECK(text.starts_with("{\n  \"debug\": true,\n  \"maxConcurrent\": 2,\n  \"defaults\": {\n    \"timeoutMs\": 5000,"));
  CHECK(text.find("\"cpuLimit\": 0.5") != std::string::npos);
  CHECK(text.find("\"source\"") == std::string::npos);

  const Config back = parseConfig(text, "round-trip");
  CHECK(toJson(back) == text);
  CHECK(back.defaults.network == isol8::NetworkMode::filtered);
  CHECK(back.security.customProfilePath == "/etc/isol8/profile.json");
  CHECK(back.poolSize.dirty == 3);
  CHECK(back.remoteCode.cacheTtl == 0);
  CHECK(back.auth.connectionString == std::optional<std::string>("postgres://db/isol8"));
  REQUIRE(back.prebuiltImages.size() == 1);
  CHECK(back.prebuiltImages[0].setupScript == std::optional<std::string>("echo hi"));
}

TEST_CASE("config: toJson of the defaults omits unset keys and prints whole numbers plainly", "[config][json]") {
  const std::string text = toJson(Config{});
  CHECK(text.find("\"cpuLimit\": 1,") != std::string::npos);
  CHECK(text.find("customProfilePath") == std::string::npos);
  CHECK(text.find("logDir") == std::string::npos);
  CHECK(text.find("connectionString") == std::string::npos);
  CHECK(text.find("\"whitelist\": [],") != std::string::npos);
  CHECK(text.find("\"prebuiltImages\": []\n}") != std::string::npos);
  CHECK(toJson(parseConfig(text, "x")) == text);
}

TEST_CASE("config: engineOptionsFrom applies the local engine's keys", "[config]") {
  const Config c = parse(R"({"debug": true, "maxConcurrent": 3, "poolStrategy": "secure", "poolSize": 0,
                             "defaults": {"timeoutMs": 1234, "memoryLimit": "1g", "cpuLimit": 2, "network": "host",
                                          "sandboxSize": "64m", "tmpSize": "16m"},
                             "security": {"seccomp": "unconfined"}})");
  const isol8::EngineOptions o = isol8::engineOptionsFrom(c);
  CHECK(o.debug == true);
  CHECK(o.maxConcurrent == 3);
  CHECK(o.poolStrategy == isol8::PoolStrategy::secure);
  CHECK(o.poolSize.clean == 0);
  CHECK(o.poolSize.dirty == 0);
  CHECK(o.timeoutMs == 1234);
  CHECK(o.memoryLimit == "1g");
  CHECK(o.cpuLimit == 2.0);
  CHECK(o.network == isol8::NetworkMode::host);
  CHECK(o.sandboxSize == "64m");
  CHECK(o.tmpSize == "16m");
  CHECK(o.security.seccomp == isol8::SeccompMode::unconfined);
}

TEST_CASE("config: registries, Docker timeout, removal retries and sweeps, with their defaults", "[config]") {
  const Config d;
  CHECK(d.registries.at("python") == std::vector<std::string>{"pypi.org", "files.pythonhosted.org"});
  CHECK(d.registries.at("node") == std::vector<std::string>{"registry.npmjs.org"});
  CHECK(d.registries.at("bun") == std::vector<std::string>{"registry.npmjs.org"});
  CHECK(d.registries.at("deno") == std::vector<std::string>{"jsr.io", "registry.npmjs.org"});
  CHECK(d.registries.at("bash").empty());
  CHECK(d.docker.timeoutMs == 30000);
  CHECK(d.cleanup.removalRetryMs == 1000);
  CHECK(d.cleanup.removalRetryMaxMs == 60000);
  CHECK(d.server.sweepIntervalMs == 60000);

  const Config c = parse(R"({"network": {"registries": {"python": ["pypi.internal.example", "127.0.0.1"]}},
                             "docker": {"timeoutMs": 1}, "cleanup": {"removalRetryMs": 5, "removalRetryMaxMs": 50},
                             "server": {"sweepIntervalMs": 1}})");
  CHECK(c.registries.at("python") == std::vector<std::string>{"pypi.internal.example", "127.0.0.1"});
  CHECK(c.registries.at("node") == std::vector<std::string>{"registry.npmjs.org"});  // runtime by runtime
  const isol8::EngineOptions o = isol8::engineOptionsFrom(c);
  CHECK(o.registries == c.registries);
  CHECK(o.dockerTimeoutMs == 1);
  CHECK(o.removalRetryMs == 5);
  CHECK(o.removalRetryMaxMs == 50);
  CHECK(toJson(parseConfig(toJson(c), "x")) == toJson(c));

  CHECK_THROWS_WITH(parse(R"({"network": {"registries": {"ruby": ["rubygems.org"]}}})"),
                    Catch::Contains("network.registries.ruby is not a runtime"));
  CHECK_THROWS_WITH(parse(R"({"network": {"registries": {"node": ["https://registry.npmjs.org/"]}}})"),
                    Catch::Contains("network.registries.node[0] must be a host name"));
  CHECK_THROWS_WITH(parse(R"({"docker": {"timeoutMs": 0}})"), Catch::Contains("docker.timeoutMs must be a positive number"));
  CHECK_THROWS_WITH(parse(R"({"cleanup": {"removalRetryMs": 0}})"),
                    Catch::Contains("cleanup.removalRetryMs must be a positive number"));
  CHECK_THROWS_WITH(parse(R"({"server": {"sweepIntervalMs": 0}})"),
                    Catch::Contains("server.sweepIntervalMs must be a positive number"));
}
