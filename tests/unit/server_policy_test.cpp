// The server's policy over client options (server/policy.hpp) and the config's "server"
// section: each limit at its maximum (allowed) and just beyond (refused).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include "server/http_types.hpp"
#include "server/policy.hpp"

using isol8::Config;
using isol8::wire::ClientOptions;
using isol8::server::policyViolation;

namespace {

std::optional<std::string> check(const ClientOptions& options, const Config& config = {},
                                 const isol8::ExecutionRequest& request = {}) {
  return policyViolation(config, options, request);
}

}  // namespace

TEST_CASE("policy: no options, or the server's own values, are within the policy", "[unit]") {
  CHECK_FALSE(check({}));
  ClientOptions same;
  same.memoryLimit = "512m";
  same.cpuLimit = 1.0;
  same.timeoutMs = 30000;
  same.pidsLimit = 64;
  same.maxOutputSize = 1048576;
  same.sandboxSize = "512m";
  same.tmpSize = "256m";
  same.network = isol8::NetworkMode::none;
  same.seccomp = isol8::SeccompMode::strict;
  same.persist = false;
  same.readonlyRootFs = true;
  CHECK_FALSE(check(same));
}

TEST_CASE("policy: filtered needs the server's consent when its own network is none without a whitelist", "[unit]") {
  ClientOptions filtered;
  filtered.network = isol8::NetworkMode::filtered;
  CHECK(check(filtered) == "options.network \"filtered\" is not allowed by this server");
  Config consent;
  consent.server.allowFilteredNetwork = true;
  CHECK_FALSE(check(filtered, consent));
  Config ownFiltered;
  ownFiltered.defaults.network = isol8::NetworkMode::filtered;
  CHECK_FALSE(check(filtered, ownFiltered));
  Config ownHost;
  ownHost.defaults.network = isol8::NetworkMode::host;
  CHECK_FALSE(check(filtered, ownHost));  // narrower than the server's own
  Config whitelist;
  whitelist.network.whitelist = {"^pypi\\.org$"};
  CHECK_FALSE(check(filtered, whitelist));  // bounded by the server's whitelist
  CHECK(isol8::parseConfig(R"({"server":{"allowFilteredNetwork":true}})", "x.json").server.allowFilteredNetwork);
  CHECK_FALSE(isol8::Config{}.server.allowFilteredNetwork);
}

TEST_CASE("policy: limits up to the maximum pass, beyond it are refused", "[unit]") {
  ClientOptions o;
  o.memoryLimit = "513m";
  CHECK(check(o) == "options.memoryLimit \"513m\" exceeds this server's maximum of \"512m\"");
  Config config;
  config.server.maxMemoryLimit = "1g";
  o.memoryLimit = "1024m";
  CHECK_FALSE(check(o, config));
  o.memoryLimit = "1025m";
  CHECK(check(o, config) == "options.memoryLimit \"1025m\" exceeds this server's maximum of \"1g\"");

  ClientOptions t;
  t.timeoutMs = 30001;
  CHECK(check(t) == "options.timeoutMs 30001 exceeds this server's maximum of 30000");
  config.server.maxTimeoutMs = 60000;
  CHECK_FALSE(check(t, config));
  isol8::ExecutionRequest request;
  request.timeoutMs = 60001;
  CHECK(check({}, config, request) == "request.timeoutMs 60001 exceeds this server's maximum of 60000");

  ClientOptions c;
  c.cpuLimit = 1.5;
  CHECK(check(c) == "options.cpuLimit 1.5 exceeds this server's maximum of 1");
  ClientOptions p;
  p.pidsLimit = 65;
  CHECK(check(p) == "options.pidsLimit 65 exceeds this server's maximum of 64");
  ClientOptions out;
  out.maxOutputSize = 1048577;
  CHECK(check(out) == "options.maxOutputSize 1048577 exceeds this server's maximum of 1048576");
  ClientOptions tmp;
  tmp.tmpSize = "257m";
  CHECK(check(tmp) == "options.tmpSize \"257m\" exceeds this server's maximum of \"256m\"");
}

TEST_CASE("policy: host network, other seccomp, images and persist need the config's consent", "[unit]") {
  Config config;
  ClientOptions host;
  host.network = isol8::NetworkMode::host;
  CHECK(check(host) == "options.network \"host\" is not allowed by this server");
  config.server.allowHostNetwork = true;
  CHECK_FALSE(check(host, config));

  ClientOptions seccomp;
  seccomp.seccomp = isol8::SeccompMode::unconfined;
  CHECK(check(seccomp) == "options.security.seccomp \"unconfined\" is not allowed by this server");
  ClientOptions profile;
  profile.customProfilePath = "/etc/shadow";
  CHECK(check(profile) == "options.security.customProfilePath is not allowed by this server");
  config.server.allowCustomSeccomp = true;
  CHECK_FALSE(check(seccomp, config));

  ClientOptions image;
  image.image = "my-python:1";
  CHECK(check(image) == "options.image \"my-python:1\" is not allowed by this server");
  config.server.allowedImages = {"my-python:1"};
  CHECK_FALSE(check(image, config));

  ClientOptions persist;
  persist.persist = true;
  CHECK(check(persist) == "options.persist is not allowed by this server");
  ClientOptions writable;
  writable.readonlyRootFs = false;
  CHECK(check(writable) == "options.readonlyRootFs false is not supported: the root filesystem is always read-only");
}

TEST_CASE("policy: the network filter cannot widen the server's", "[unit]") {
  Config config;
  ClientOptions o;
  o.networkFilter = isol8::NetworkFilter{{"^a\\.example$"}, {"^b\\.example$"}, {"10.0.0.0/8"}};
  CHECK(check(o, config) == "options.networkFilter.allowedAddresses \"10.0.0.0/8\" is not allowed by this server");
  config.network.allowedAddresses = {"10.0.0.0/8"};
  CHECK_FALSE(check(o, config));
  config.network.whitelist = {"^c\\.example$"};
  CHECK(check(o, config) == "options.networkFilter.whitelist \"^a\\.example$\" is not allowed by this server");
  config.network.whitelist.push_back("^a\\.example$");
  CHECK_FALSE(check(o, config));

  // The run's filter: the client's whitelist, the server's blacklist before the client's.
  config.network.blacklist = {"^evil\\.example$"};
  const auto options = isol8::server::requestEngineOptions(config, o);
  CHECK(options.networkFilter.whitelist == std::vector<std::string>{"^a\\.example$"});
  CHECK(options.networkFilter.blacklist == std::vector<std::string>{"^evil\\.example$", "^b\\.example$"});
  // Without a client filter the server's applies unchanged; debug stays the server's.
  ClientOptions plain;
  plain.debug = true;
  const auto serverOnly = isol8::server::requestEngineOptions(config, plain);
  CHECK(serverOnly.networkFilter.blacklist == config.network.blacklist);
  CHECK_FALSE(serverOnly.debug);
}

// Found by fuzz_http_request (tests/fuzz/corpus/http_request/crash-bad-size): a size option the
// policy cannot read escaped as isol8::Error, which the stream and WebSocket routes do not
// catch (the connection dropped, no answer) and POST /execute answered with 500.
TEST_CASE("policy: an unreadable size option is a 400 naming it, not a failure of the server", "[unit]") {
  for (const char* key : {"memoryLimit", "sandboxSize", "tmpSize"}) {
    boost::json::object options{{key, "25m6"}};
    const boost::json::value envelope{{"request", {{"runtime", "python"}, {"code", "1"}}}, {"options", options}};
    try {
      isol8::server::checkedExecuteBody(Config{}, envelope);
      FAIL("accepted");
    } catch (const isol8::server::HttpError& e) {
      CHECK(e.status() == 400);
      CHECK(std::string(e.what()) ==
            fmt::format("options.{} must be a size such as \"512m\" or \"1g\", got \"25m6\"", key));
    }
  }
}

TEST_CASE("config: the server section", "[unit]") {
  const auto config = isol8::parseConfig(
      R"({"server":{"allowHostNetwork":true,"allowedImages":["x:1"],"maxMemoryLimit":"2g","maxCpuLimit":2.5,
          "maxTimeoutMs":60000,"sseKeepAliveMs":500,"pruneIntervalMs":1000,"prewarm":["bash"]}})",
      "t.json");
  CHECK(config.server.allowHostNetwork);
  CHECK(config.server.allowedImages == std::vector<std::string>{"x:1"});
  CHECK(config.server.maxMemoryLimit == "2g");
  CHECK(config.server.maxCpuLimit == 2.5);
  CHECK(config.server.maxTimeoutMs == 60000);
  CHECK_FALSE(config.server.maxPidsLimit);
  CHECK(config.server.sseKeepAliveMs == 500);
  CHECK(config.server.prewarm == std::vector<std::string>{"bash"});
  // Round trip through `isol8 config --json`.
  CHECK(isol8::parseConfig(isol8::toJson(config), "again").server.maxCpuLimit == 2.5);
  CHECK_THROWS_WITH(isol8::parseConfig(R"({"server":{"prewarm":["cobol"]}})", "t.json"),
                    Catch::Contains("server.prewarm[0] must be one of"));
  CHECK_THROWS_WITH(isol8::parseConfig(R"({"server":{"maxMemoryLimit":"lots"}})", "t.json"),
                    Catch::Contains("server.maxMemoryLimit must be a size"));
}
