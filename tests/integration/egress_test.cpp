// Filtered networking against the real engine: the sandbox reaches nothing but isol8's egress
// proxy, which decides by host name (deny first) and refuses private addresses after
// resolving. Targets are servers this test starts on the machine (never outside addresses).
#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::shellRequest;
using isol8::NetworkMode;
using isol8::test::BackgroundProcess;
using TestServer = isol8::test::HelloServer;

namespace {

EngineOptions filtered(std::vector<std::string> allow, std::vector<std::string> deny, bool loopbackAllowed) {
  std::vector<std::string> loopback;
  if (loopbackAllowed) loopback = {"127.0.0.1/32", "::1/128"};
  return isol8::test::filteredOptions(std::move(allow), std::move(deny), std::move(loopback));
}

using isol8::test::proxyCurl;
std::string curl(const std::string& args) { return proxyCurl(args); }

}  // namespace

TEST_CASE("egress: an allowed host works through the proxy, plain HTTP and CONNECT", "[egress]") {
  TestServer server;
  DockerIsol8 engine(filtered({"^localhost$"}, {}, true));
  auto plain = engine.execute(shellRequest(curl(server.url("localhost", "/hello.txt?via=get"))));
  CHECK(plain.stdoutText == "hello from the test server\n 200\n");
  auto tunnel = engine.execute(shellRequest(curl("-p " + server.url("localhost", "/hello.txt?via=connect"))));
  CHECK(tunnel.stdoutText == "hello from the test server\n 200\n");
  CHECK(server.saw("/hello.txt?via=get"));
  CHECK(server.saw("/hello.txt?via=connect"));
  // Logged per run: the GET with its path, the CONNECT without.
  REQUIRE(plain.networkLogs.size() == 1);
  CHECK(plain.networkLogs[0].method == "GET");
  CHECK(plain.networkLogs[0].host == "localhost");
  CHECK(plain.networkLogs[0].path == std::optional<std::string>("/hello.txt?via=get"));
  CHECK(plain.networkLogs[0].action == "ALLOW");
  REQUIRE(tunnel.networkLogs.size() == 1);
  CHECK(tunnel.networkLogs[0].method == "CONNECT");
  CHECK_FALSE(tunnel.networkLogs[0].path.has_value());
  CHECK(tunnel.securityEvents.empty());
}

TEST_CASE("egress: a denied host gets 403 and no connection is made, whatever its case", "[egress]") {
  TestServer server;
  DockerIsol8 engine(filtered({}, {"^localhost$"}, true));
  auto r = engine.execute(shellRequest(curl(server.url("localhost", "/denied")) + "; " + curl(server.url("LOCALHOST", "/upper")) +
                               "; curl -s -m 10 -p -o /dev/null -w ' %{http_connect}' " + server.url("LocalHost", "/tunnel") + "; echo"));
  CHECK(r.stdoutText ==
        "isol8: request to localhost blocked by network filter 403\n"
        "isol8: request to localhost blocked by network filter 403\n"
        " 403\n");  // the CONNECT's own status
  CHECK_FALSE(server.saw("/denied"));
  CHECK_FALSE(server.saw("/upper"));
  CHECK_FALSE(server.saw("/tunnel"));
  REQUIRE(r.networkLogs.size() == 3);
  for (const auto& entry : r.networkLogs) CHECK(entry.action == "BLOCK");
  REQUIRE(r.securityEvents.size() == 3);
  CHECK(r.securityEvents[0].type == "network_blocked");
  CHECK(r.securityEvents[0].details.at("reason") == "filter_mismatch");
  CHECK(r.securityEvents[2].details.at("method") == "CONNECT");
}

TEST_CASE("egress: private, loopback, link-local and metadata addresses are refused, IPv4 and IPv6", "[egress]") {
  TestServer server;
  DockerIsol8 engine(filtered({}, {}, false));  // every name allowed by the filter
  const std::string p = std::to_string(server.port);
  std::string cmd;
  for (const std::string host : {"127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1",
                                 "172.17.0.1", "192.168.1.1", "100.64.0.1", "[fe80::1]", "[fd00::1]"})
    cmd += curl("-o /dev/null http://" + host + ":" + p + "/private") + "; ";
  auto r = engine.execute(shellRequest(cmd));
  std::string expected;
  for (int i = 0; i < 11; ++i) expected += " 403\n";
  CHECK(r.stdoutText == expected);
  CHECK_FALSE(server.saw("/private"));
  for (const auto& e : r.securityEvents) CHECK(e.details.at("reason") == "private_address");
  CHECK(r.securityEvents.size() == 11);
  // Control: the same server is reachable once its address is explicitly allowed.
  DockerIsol8 allowed(filtered({}, {}, true));
  CHECK(allowed.execute(shellRequest(curl(server.url("127.0.0.1", "/hello.txt?allowed")))).stdoutText ==
        "hello from the test server\n 200\n");
}

TEST_CASE("egress: a direct connection that ignores the proxy fails, and DNS does not work", "[egress]") {
  TestServer server;
  DockerIsol8 engine(filtered({}, {}, true));
  // The host's docker0 address, where the test server listens too (0.0.0.0).
  auto r = engine.execute(shellRequest("curl -s -m 5 --noproxy '*' http://172.17.0.1:" + std::to_string(server.port) +
                               "/hello.txt?direct; echo \"curl=$?\"; getent hosts deb.debian.org; echo \"dns=$?\"; "
                               "(echo x > /dev/udp/8.8.8.8/53) 2>/dev/null; echo \"udp=$?\"; "
                               "kill -9 1 2>/dev/null; echo \"kill=$?\"; " +
                               curl(server.url("localhost", "/hello.txt?after-kill"))));
  CHECK_THAT(r.stdoutText, Catch::StartsWith("curl=7\n"));  // couldn't connect: no route
  CHECK_THAT(r.stdoutText, Catch::Contains("dns=2\n"));     // no such host
  CHECK_THAT(r.stdoutText, Catch::Contains("udp=1\n"));
  CHECK_THAT(r.stdoutText, Catch::Contains("kill=1\n"));    // the relay is the supervisor (PID 1, root)
  CHECK_THAT(r.stdoutText, Catch::EndsWith("hello from the test server\n 200\n"));
  CHECK_FALSE(server.saw("/hello.txt?direct"));
  // Control: with the host network the same direct request does arrive.
  EngineOptions host;
  host.network = NetworkMode::host;
  DockerIsol8 open(host);
  CHECK(open.execute(shellRequest("curl -s -m 5 http://127.0.0.1:" + std::to_string(server.port) + "/hello.txt?direct")).stdoutText ==
        "hello from the test server\n");
}

TEST_CASE("egress: --install without --net allows only the registry, for the install only", "[egress][install]") {
  auto r = isol8::test::runCli(
      {"run", "-r", "node", "--install", "is-number", "--log-network", "--cmd",
       "node -e \"console.log(require('is-number')(5))\"; "
       "npm view is-odd version >/dev/null 2>&1 && echo reached || echo blocked"});
  INFO(r.err);
  CHECK(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::Contains("added 1 package"));  // the install's own output (phase setup)
  CHECK_THAT(r.out, Catch::EndsWith("true\nblocked\n"));
  // The registry was let through for the install, and refused to the code afterwards.
  CHECK_THAT(r.err, Catch::Contains("\"host\":\"registry.npmjs.org\",\"path\":null,\"action\":\"ALLOW\""));
  CHECK_THAT(r.err, Catch::Contains("\"host\":\"registry.npmjs.org\",\"path\":null,\"action\":\"BLOCK\""));
}

TEST_CASE("egress: the CLI takes --net filtered, --allow and --deny, and the config's network lists", "[egress][cli]") {
  TestServer server;
  isol8::test::TempDir dir;
  // The config: filtered by default, localhost denied, loopback addresses exempt.
  dir.write("isol8.config.json", R"({"defaults": {"network": "filtered"},
      "network": {"blacklist": ["^localhost$"], "allowedAddresses": ["127.0.0.1/32", "::1/128"]}})");
  const std::string fetch = curl(server.url("localhost", "/hello.txt?cli"));
  auto denied = isol8::test::runCli({"run", "--cmd", fetch}, std::nullopt, dir.path);
  CHECK(denied.out == "isol8: request to localhost blocked by network filter 403\n");
  // --deny replaces the config's list; --allow narrows what is allowed.
  auto allowed = isol8::test::runCli({"run", "--deny", "^example\\.com$", "--log-network", "--cmd", fetch}, std::nullopt,
                                     dir.path);
  CHECK(allowed.out == "hello from the test server\n 200\n");
  CHECK_THAT(allowed.err, Catch::Contains("\"method\":\"GET\",\"host\":\"localhost\",\"path\":\"/hello.txt?cli\""));
  auto notListed = isol8::test::runCli({"run", "--deny", "^none$", "--allow", "^example\\.com$", "--cmd", fetch},
                                       std::nullopt, dir.path);
  CHECK(notListed.out == "isol8: request to localhost blocked by network filter 403\n");
  CHECK(server.saw("/hello.txt?cli"));
}

TEST_CASE("egress: a request whose connection outlives the run is logged in that run", "[egress]") {
  // An upstream that answers and never closes: the proxy's connection (and so the request's
  // log entry, written when the connection ends) outlives the program that made the request.
  const int port = isol8::test::freeLoopbackPort();
  BackgroundProcess upstream({"python3", "-u", "-c",
                              "import socket, time\n"
                              "s = socket.create_server(('0.0.0.0', " + std::to_string(port) + "))\n"
                              "held = []\n"
                              "while True:\n"
                              "    c, _ = s.accept()\n"
                              "    c.recv(65536)\n"
                              "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nheld\\n')\n"
                              "    held.append(c)\n"});
  REQUIRE(isol8::test::waitForPort(port));
  DockerIsol8 engine(filtered({"^localhost$"}, {}, true));
  auto r = engine.execute(shellRequest(curl("http://localhost:" + std::to_string(port) + "/held")));
  CHECK(r.stdoutText == "held\n 200\n");
  REQUIRE(r.networkLogs.size() == 1);
  CHECK(r.networkLogs[0].path == std::optional<std::string>("/held"));
  CHECK(r.networkLogs[0].action == "ALLOW");
  // The run's connection ended with it: the next run logs nothing of it.
  auto next = engine.execute(shellRequest("true"));
  CHECK(next.networkLogs.empty());
}
