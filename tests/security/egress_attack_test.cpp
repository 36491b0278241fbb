// Attacks on the egress policy of filtered networking: spellings of an address that a host
// pattern was not written for, a client widening a server's network, and a registry host
// planted where the engine used to look for it. Each case runs through the real engine or a
// real isol8-server; the targets are servers this test starts on the machine.
#include <cstdio>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "isol8/error.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

namespace json = boost::json;
using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::test::HelloServer;

namespace {

// The address rule would refuse loopback on its own: exempt it, so only the host patterns
// stand between the sandbox and the test's server (as for an internal mirror).
EngineOptions filteredWithLoopback(std::vector<std::string> allow, std::vector<std::string> deny) {
  return isol8::test::filteredOptions(std::move(allow), std::move(deny), {"127.0.0.0/8"});
}

}  // namespace

TEST_CASE("attack: other spellings of a blacklisted IP address are refused like the address", "[security][egress]") {
  HelloServer server;
  DockerIsol8 engine(filteredWithLoopback({}, {R"(^127\.0\.0\.1$)"}));
  const std::vector<std::string> spellings{"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]",
                                           "[::FFFF:127.0.0.1]", "2130706433", "0x7f.0.0.1", "127.1", "0177.0.0.1"};
  std::string cmd;
  for (std::size_t i = 0; i < spellings.size(); ++i)
    cmd += isol8::test::proxyCurl("-o /dev/null " + server.url(spellings[i], "/plain" + std::to_string(i))) + "; " +
           "curl -s -m 10 -g -p -o /dev/null -w ' %{http_connect}' " +  // the CONNECT's own status
           server.url(spellings[i], "/tunnel" + std::to_string(i)) + "; echo; ";
  auto r = engine.execute(isol8::test::shellRequest(cmd));
  std::string expected;
  for (std::size_t i = 0; i < spellings.size(); ++i) expected += " 403\n 403\n";
  CHECK(r.stdoutText == expected);
  for (std::size_t i = 0; i < spellings.size(); ++i) {
    INFO(spellings[i]);
    CHECK_FALSE(server.saw("/plain" + std::to_string(i)));
    CHECK_FALSE(server.saw("/tunnel" + std::to_string(i)));
  }
  for (const auto& entry : r.networkLogs) CHECK(entry.action == "BLOCK");
  // Control: the mapped spelling does reach the machine when its address is not blacklisted.
  auto control = engine.execute(isol8::test::shellRequest(isol8::test::proxyCurl(server.url("[::ffff:127.0.0.2]", "/hello.txt?control"))));
  CHECK(control.stdoutText == "hello from the test server\n 200\n");
  CHECK(server.saw("/hello.txt?control"));
}

TEST_CASE("attack: a client cannot widen a server's network none to filtered", "[security][egress]") {
  using isol8::test::ServerLaunch;
  using isol8::test::ServerProcess;
  const auto run = [](const ServerProcess& server, const json::object& options) {
    const json::object body{{"request", json::object{{"runtime", "bash"}, {"code", "echo ran"}}}, {"options", options}};
    return isol8::test::httpRequest("POST", server.url() + "/execute", json::serialize(body),
                                    {isol8::test::bearer(server.masterKey())});
  };
  const json::object asked{{"network", "filtered"}};
  ServerLaunch closed;
  closed.configJson = R"({"server":{"prewarm":[]}})";  // defaults.network none, no whitelist
  ServerProcess server(closed);
  auto refused = run(server, asked);
  INFO(refused.body);
  CHECK(refused.status == 403);
  CHECK(refused.body == R"({"error":"options.network \"filtered\" is not allowed by this server"})");
  auto stream = isol8::test::httpRequest(
      "POST", server.url() + "/execute/stream",
      json::serialize(json::object{{"request", json::object{{"runtime", "bash"}, {"code", "echo ran"}}}, {"options", asked}}),
      {isol8::test::bearer(server.masterKey())});
  CHECK(stream.status == 403);

  // The server's consent, given either way, lets it through.
  for (const std::string config : {R"({"server":{"prewarm":[],"allowFilteredNetwork":true}})",
                                   R"({"server":{"prewarm":[]},"defaults":{"network":"filtered"}})",
                                   R"({"server":{"prewarm":[]},"network":{"whitelist":["^pypi\\.org$"]}})"}) {
    INFO(config);
    ServerLaunch open;
    open.configJson = config;
    ServerProcess consenting(open);
    auto allowed = run(consenting, asked);
    INFO(allowed.body);
    CHECK(allowed.status == 200);
    CHECK(isol8::test::str(isol8::test::parseObject(allowed.body).at("stdout")) == "ran\n");
  }
}

TEST_CASE("attack: a registry planted in the image's package manager config is not let through", "[security][egress]") {
  HelloServer server;
  // An image whose global npm configuration names another registry, as a package installed
  // into a custom image (its install script runs as root at build time) could leave behind.
  const std::string tag = isol8::test::randomMarker("isol8-test-planted-registry") + ":latest";
  isol8::test::TempDir context;
  // npm's builtin config (next to npm itself): read by `npm config get` and by the install.
  context.write("Dockerfile", "FROM isol8:node\nUSER root\n"
                              "RUN d=\"$(dirname \"$(dirname \"$(readlink -f \"$(command -v npm)\")\")\")\" && "
                              "printf 'registry=http://localhost:" + std::to_string(server.port) + "/planted/\\n' >> \"$d/npmrc\"\n");
  auto built = isol8::test::runProgram({"docker", "build", "-q", "--network", "none", "-t", tag, context.path});
  INFO(built.err);
  REQUIRE(built.exitCode == 0);
  struct RemoveImage {
    std::string tag;
    ~RemoveImage() { isol8::test::runProgram({"docker", "rmi", "-f", tag}); }
  } removeImage{tag};

  EngineOptions options = filteredWithLoopback({R"(^nothing\.invalid$)"}, {});
  options.image = tag;
  DockerIsol8 engine(options);
  auto req = isol8::test::codeRequest("node", "console.log('code ran')");
  req.installPackages = {"is-number"};
  try {
    engine.execute(req);
  } catch (const isol8::Error&) {
    // The install may fail: its registry is not reachable. What matters is where it went.
  }
  CHECK_FALSE(server.saw("/planted/"));
}
