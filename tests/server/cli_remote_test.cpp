// The CLI's remote commands against a real isol8-server: run --host, session, login/logout,
// serve. HOME is a temporary folder, so ~/.isol8/credentials.json is the test's own.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "isol8/remote_isol8.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

using namespace isol8::test;
namespace fs = std::filesystem;

extern char** environ;

namespace {

// A private HOME and no ISOL8_API_KEY from the test's own environment.
struct CliEnv {
  TempDir home;
  EnvChanges env() const { return {{"HOME", home.path}, {"ISOL8_API_KEY", std::nullopt}}; }
  CommandResult run(std::vector<std::string> args) const { return runCli(std::move(args), std::nullopt, {}, env()); }
  fs::path credentials() const { return fs::path(home.path) / ".isol8" / "credentials.json"; }
};

}  // namespace

TEST_CASE("cli remote: run --host streams the output", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  auto r = cli.run({"run", "--host", server.url(), "--key", server.masterKey(), "-e", "print('hi')"});
  CHECK(r.out == "hi\n");
  CHECK(r.exitCode == 0);
  r = cli.run({"run", "--host", server.url(), "--key", server.masterKey(), "--no-stream", "-e", "print('buffered')"});
  CHECK(r.out == "buffered\n");
  CHECK(r.exitCode == 0);
}

// The network log comes with the stream's result event; the blocked request needs no network.
TEST_CASE("cli remote: run --host --log-network prints the network log when streaming", "[cli-remote]") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[],"allowFilteredNetwork":true}})";
  ServerProcess server(launch);
  CliEnv cli;
  auto r = cli.run({"run", "--host", server.url(), "--key", server.masterKey(), "--net", "filtered", "--allow",
                    "^allowed\\.invalid$", "--log-network", "-r", "bash", "-e",
                    "curl -s -m 10 -o /dev/null -w '%{http_code}\\n' http://blocked.invalid/secret"});
  INFO(r.err);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "403\n");
  CHECK_THAT(r.err, Catch::Contains("\n--- Network Logs ---\n"));
  CHECK_THAT(r.err, Catch::Contains(R"("method":"GET","host":"blocked.invalid")"));
  CHECK_THAT(r.err, Catch::Contains(R"("action":"BLOCK")"));
}

TEST_CASE("cli remote: the exit code and stderr come through", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  const std::string code = "import sys\nprint('bad', file=sys.stderr)\nsys.exit(7)";
  for (const char* mode : {"--no-stream", "--debug"}) {
    auto r = cli.run({"run", "--host", server.url(), "--key", server.masterKey(), mode, "-e", code});
    CHECK(r.exitCode == 7);
    CHECK_THAT(r.err, Catch::Contains("bad"));
  }
}

TEST_CASE("cli remote: the key comes from --key, ISOL8_API_KEY, or is missing", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  auto r = cli.run({"run", "--host", server.url(), "-e", "print(1)"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] API key required. Use --key, ISOL8_API_KEY env var, or `isol8 login`.\n");
  auto env = cli.env();
  env["ISOL8_API_KEY"] = server.masterKey();
  r = runCli({"run", "--host", server.url(), "-e", "print('env key')"}, std::nullopt, {}, env);
  CHECK(r.out == "env key\n");
  r = cli.run({"run", "--host", server.url(), "--key", "wrong", "-e", "print(1)"});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::Contains("Invalid API key"));
  r = cli.run({"run", "--session-id", "x", "-e", "print(1)"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] --session-id requires --host (remote server). Session IDs are managed by the server.\n");
}

TEST_CASE("cli remote: --session-id keeps the session, session list and stop", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  const std::vector<std::string> remote{"--host", server.url(), "--key", server.masterKey()};
  auto withRemote = [&](std::vector<std::string> args) {
    args.insert(args.end(), remote.begin(), remote.end());
    return cli.run(args);
  };
  auto r = withRemote({"run", "--session-id", "kept-1", "-e", "open('/sandbox/k.txt','w').write('kept')"});
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.err, Catch::Contains("[Run] Session ID: kept-1"));
  r = withRemote({"run", "--session-id", "kept-1", "-e", "print(open('/sandbox/k.txt').read())"});
  CHECK(r.out == "kept\n");
  r = withRemote({"session", "list"});
  CHECK(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::Contains("kept-1  [idle]  last accessed: "));
  r = withRemote({"session", "list", "--json"});
  const auto list = boost::json::parse(r.out).as_array();
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("id").as_string() == "kept-1");
  r = withRemote({"session", "stop", "kept-1"});
  CHECK(r.out == "[OK] Session \"kept-1\" destroyed.\n");
  r = withRemote({"session", "list"});
  CHECK(r.out == "[INFO] No active sessions.\n");
}

TEST_CASE("cli remote: --persistent uses a generated session, deleted at the end", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  auto r = cli.run({"run", "--host", server.url(), "--key", server.masterKey(), "--persistent", "-e", "print('p')"});
  CHECK(r.out == "p\n");
  CHECK_THAT(r.err, Catch::Contains("[Run] Session ID: cli-"));
  r = cli.run({"session", "list", "--host", server.url(), "--key", server.masterKey()});
  CHECK(r.out == "[INFO] No active sessions.\n");
}

TEST_CASE("cli remote: Ctrl-C ends the run, deletes the generated session, exits 130", "[cli-remote]") {
  ServerProcess server;
  std::vector<std::string> argv{ISOL8_CLI_PATH, "run",  "--host", server.url(), "--key", server.masterKey(), "--persistent",
                                "-e", "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.1)"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  // Wait (bounded) until the run is active on the server, so the signal arrives mid-run.
  isol8::RemoteIsol8 admin(isol8::RemoteOptions{server.url(), server.masterKey(), std::nullopt});
  auto running = [&] {
    for (const auto& s : admin.listSessions())
      if (s.isActive) return true;
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  REQUIRE(running());
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(admin.listSessions().empty());
}

TEST_CASE("cli remote: login stores a key that run uses and logout removes it", "[cli-remote]") {
  TempDir db;
  ServerLaunch launch;
  launch.authDb = db.path + "/keys.db";
  ServerProcess server(launch);
  CliEnv cli;
  auto r = cli.run({"login", "--host", server.url() + "/", "--key", server.masterKey(), "--name", "ci"});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::Contains("[OK]"));
  REQUIRE(fs::exists(cli.credentials()));
  struct stat info {};
  REQUIRE(::stat(cli.credentials().c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::ifstream file(cli.credentials());
  std::stringstream text;
  text << file.rdbuf();
  const auto stored = boost::json::parse(text.str()).as_object();
  CHECK(stored.at("token").as_string().starts_with("isol8_"));
  CHECK(stored.at("host").as_string() == server.url() + "/");

  r = cli.run({"run", "--host", server.url(), "-e", "print('with stored key')"});  // trailing '/' ignored
  CHECK(r.out == "with stored key\n");
  CHECK(r.exitCode == 0);

  r = cli.run({"logout"});
  CHECK(r.out == "[OK] Credentials removed from " + cli.credentials().string() + "\n");
  CHECK_FALSE(fs::exists(cli.credentials()));
  r = cli.run({"logout"});
  CHECK(r.out == "[INFO] No stored credentials found.\n");
  r = cli.run({"run", "--host", server.url(), "-e", "print(1)"});
  CHECK(r.exitCode == 1);
}

TEST_CASE("cli remote: stored credentials that expired are not used", "[cli-remote]") {
  CliEnv cli;
  fs::create_directories(cli.credentials().parent_path());
  std::ofstream(cli.credentials())
      << R"({"host":"http://127.0.0.1:9","token":"isol8_old","expiresAt":"2020-01-01T00:00:00.000Z","keyId":"k"})";
  const auto r = cli.run({"session", "list", "--host", "http://127.0.0.1:9"});
  CHECK(r.exitCode == 1);
  CHECK(r.err ==
        "[WARN] Stored credentials have expired. Run `isol8 login` to re-authenticate.\n"
        "[ERR] API key required. Use --key, ISOL8_API_KEY env var, or `isol8 login`.\n");
}

TEST_CASE("cli remote: login against a server without database keys", "[cli-remote]") {
  ServerProcess server;
  CliEnv cli;
  const auto r = cli.run({"login", "--host", server.url(), "--key", server.masterKey()});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::Contains("[ERR] Login failed: DB-backed auth is not enabled"));
  CHECK_FALSE(fs::exists(cli.credentials()));
}

TEST_CASE("cli serve: starts the built isol8-server", "[cli-remote]") {
  CliEnv cli;
  auto r = cli.run({"serve"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] API key required. Use --key or ISOL8_API_KEY env var.\n");

  const int port = freeLoopbackPort();
  BackgroundProcess serve({ISOL8_CLI_PATH, "serve", "-p", std::to_string(port), "-k", "serve-key"}, cli.env());
  INFO(serve.output());
  REQUIRE(waitForPort(port, 60));
  r = runProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:" + std::to_string(port) + "/health"});
  CHECK(r.out == "200");
  r = cli.run({"run", "--host", "http://127.0.0.1:" + std::to_string(port), "--key", "serve-key", "-e", "print('served')"});
  CHECK(r.out == "served\n");
}

// One list of `isol8 run` behaviours, run locally and with --host against a real server: the
// same arguments must give the same stdout, exit code and stderr (where the CLI prints it).
TEST_CASE("cli remote: run behaves the same locally and with --host", "[cli-remote]") {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::optional<std::string> input;
    std::string out;
    int exitCode = 0;
    std::string errContains;
  };
  const std::vector<Case> cases{
      {"eval", {"-e", "print('hello')"}, std::nullopt, "hello\n"},
      {"buffered", {"--no-stream", "-e", "print('hello')"}, std::nullopt, "hello\n"},
      {"exit code and stderr", {"-e", "import sys\nprint('bad', file=sys.stderr)\nsys.exit(7)"}, std::nullopt, "", 7, "bad"},
      {"stdin program", {"-r", "bash"}, std::string("echo from-stdin"), "from-stdin\n"},
      {"--stdin data", {"--stdin", "piped", "--cmd", "cat"}, std::nullopt, "piped"},
      {"--cmd", {"--cmd", "echo $((6*7))"}, std::nullopt, "42\n"},
      {"node", {"-r", "node", "-e", "console.log(1+1)"}, std::nullopt, "2\n"},
      {"secret masked", {"--secret", "TOKEN=s3cr3t-value", "--cmd", "echo $TOKEN"}, std::nullopt, "***\n"},
      {"setup script", {"--setup", "echo prepared > /sandbox/f", "--cmd", "cat /sandbox/f"}, std::nullopt, "prepared\n"},
      {"timeout", {"--timeout", "1000", "--cmd", "sleep 10"}, std::nullopt, "", 137, "EXECUTION TIMED OUT"},
      {"runtime error", {"-e", "raise ValueError('boom')"}, std::nullopt, "", 1, "ValueError: boom"},
  };
  ServerProcess server;
  CliEnv cli;
  for (const auto& c : cases) {
    for (const bool remote : {false, true}) {
      INFO(c.name << (remote ? " (--host)" : " (local)"));
      std::vector<std::string> args{"run"};
      if (remote) args.insert(args.end(), {"--host", server.url(), "--key", server.masterKey()});
      args.insert(args.end(), c.args.begin(), c.args.end());
      auto r = runCli(args, c.input, {}, cli.env());
      INFO(r.err);
      CHECK(r.out == c.out);
      CHECK(r.exitCode == c.exitCode);
      if (!c.errContains.empty()) CHECK_THAT(r.err, Catch::Contains(c.errContains));
    }
  }
}
