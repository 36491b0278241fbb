// Crash and outage drills against a real isol8-server: the server killed with its containers
// running, a Docker engine that stops answering or fails removals, a session's container
// killed from outside. Only the outage itself is simulated, by a stand-in for the engine's
// socket (DOCKER_HOST=unix://...): a socket that accepts and never answers, or a relay to the
// real engine that can delay, freeze or fail requests. Everything else is the real engine.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "isol8/cleanup.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

namespace json = boost::json;
using namespace isol8::test;

namespace {

// A Docker engine that is there and frozen: connections are accepted (by the kernel's
// backlog) and never answered.
struct FrozenEngine {
  TempDir dir;
  std::string path = dir.path + "/docker.sock";
  int fd = -1;
  FrozenEngine() {
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 512) == 0);
  }
  ~FrozenEngine() { close(fd); }
  std::string dockerHost() const { return "unix://" + path; }
};

// A relay in front of the real engine's socket. Its mode is read for each new connection from
// a control file: "pass"; "delay <ms>" (each request waits that long before it is forwarded);
// "fail-delete" (container removals are answered 500, the rest forwarded); "hold <text>"
// (a request whose line contains <text> is never answered). Each request line is logged.
constexpr const char* kRelay = R"PY(
import asyncio, sys
listen_path, upstream_path, control_path, log_path = sys.argv[1:5]

def mode():
    try:
        with open(control_path) as f:
            return f.read().split() or ["pass"]
    except FileNotFoundError:
        return ["pass"]

def log(line):
    with open(log_path, "a") as f:
        f.write(line + "\n")

async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.write_eof()
    except Exception:
        writer.close()

async def handle(client_reader, client_writer):
    m = mode()
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except Exception:
        client_writer.close()
        return
    line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if m[0] == "delay":
        await asyncio.sleep(int(m[1]) / 1000)
    if m[0] == "hold" and m[1] in line:
        log("HELD " + line)
        await asyncio.Event().wait()
    if m[0] == "fail-delete" and line.startswith("DELETE /v1.41/containers/"):
        log("FAILED " + line)
        body = b'{"message":"injected outage"}'
        client_writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await client_writer.drain()
        client_writer.close()
        return
    log(line)
    up_reader, up_writer = await asyncio.open_unix_connection(upstream_path)
    up_writer.write(head)
    await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
    client_writer.close()
    up_writer.close()

async def main():
    server = await asyncio.start_unix_server(handle, path=listen_path)
    async with server:
        await server.serve_forever()

asyncio.run(main())
)PY";

struct EngineRelay {
  TempDir dir;
  std::string socket = dir.path + "/docker.sock";
  std::string control = dir.path + "/mode";
  std::string logPath = dir.path + "/requests.log";
  std::unique_ptr<BackgroundProcess> process;
  EngineRelay() {
    const auto script = dir.write("relay.py", kRelay);
    process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"python3", "-u", script, socket, "/var/run/docker.sock", control, logPath});
    for (int i = 0; i < 500 && access(socket.c_str(), F_OK) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling for the socket file
    REQUIRE(access(socket.c_str(), F_OK) == 0);
  }
  void setMode(const std::string& mode) const { std::ofstream(control) << mode; }
  void mark(const std::string& text) const { std::ofstream(logPath, std::ios::app) << text << "\n"; }
  std::string requests() const {
    std::ifstream in(logPath);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string dockerHost() const { return "unix://" + socket; }
};

std::string executeBody(const std::string& code, const std::string& sessionId = {}) {
  json::object body{{"request", json::object{{"runtime", "bash"}, {"code", code}}}};
  if (!sessionId.empty()) body["sessionId"] = sessionId;
  return json::serialize(body);
}

HttpResponse execute(const ServerProcess& server, const std::string& code, const std::string& sessionId = {}) {
  return httpRequest("POST", server.url() + "/execute", executeBody(code, sessionId),
                                  {bearer(server.masterKey())});
}

// POST /execute with curl bounded by `seconds`: the old server hung on a frozen engine, and
// the test must then fail, not hang. Returns the status (0: no answer in time) and the body.
std::pair<int, std::string> executeWithin(const ServerProcess& server, int seconds) {
  auto r = runProgram({"curl", "-s", "-m", std::to_string(seconds), "-o", "-", "-w", "\n%{http_code}",
                                    "-H", "Authorization: Bearer " + server.masterKey(), "-H",
                                    "Content-Type: application/json", "-d", executeBody("echo hi"),
                                    server.url() + "/execute"});
  const auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) return {0, r.out};
  return {std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
}

bool containerExists(const std::string& id) {
  return runProgram({"docker", "inspect", "--type", "container", id}).exitCode == 0;
}

std::string errorOf(const std::string& body) { return str(parseObject(body).at("error")); }

// Polls `done` (up to `limit`).
template <typename Predicate>
bool eventually(Predicate done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

}  // namespace

TEST_CASE("drill: a frozen Docker engine gets a quick 503 with a short message, not a hung request", "[security][outage]") {
  FrozenEngine frozen;
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[]},"docker":{"timeoutMs":1000}})";
  launch.env = {{"DOCKER_HOST", frozen.dockerHost()}};
  ServerProcess server(launch);  // starts: its leftover sweep gives up after the timeout
  const auto started = std::chrono::steady_clock::now();
  const auto [status, body] = executeWithin(server, 20);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(body);
  CHECK(status == 503);
  CHECK(took < std::chrono::seconds(10));
  if (status == 503) {
    const std::string error = errorOf(body);
    CHECK_THAT(error, Catch::StartsWith("The Docker engine at " + frozen.dockerHost() + " did not answer within 1000 ms"));
    CHECK(error.find('\n') == std::string::npos);
    CHECK(error.find("Install") == std::string::npos);
  }
  // The server itself stays up and answers what needs no engine.
  CHECK(httpRequest("GET", server.url() + "/health").status == 200);
}

TEST_CASE("drill: Docker answers within docker.timeoutMs are waited for, later ones are not", "[security][outage]") {
  EngineRelay relay;
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[]},"docker":{"timeoutMs":3000},"poolSize":0,
                          "cleanup":{"removalRetryMs":2000}})";
  launch.env = {{"DOCKER_HOST", relay.dockerHost()}};
  relay.setMode("delay 500");  // every call waits, well within the limit (the engine's own time counts too)
  ServerProcess server(launch);
  auto slow = execute(server, "echo slow but in time");
  INFO(slow.body);
  CHECK(slow.status == 200);
  relay.setMode("delay 3500");  // just past it
  const auto [status, body] = executeWithin(server, 30);
  INFO(body);
  CHECK(status == 503);
  relay.setMode("pass");  // the engine is back: so is the server
  CHECK(execute(server, "echo back").status == 200);
  // A create the engine carried out after the call had timed out is removed by name.
  const auto created = [&] {
    static const std::regex kCreate(R"(POST /v1\.41/containers/create\?name=(isol8-[0-9a-f-]+))");
    std::vector<std::string> names;
    const std::string log = relay.requests();
    for (std::sregex_iterator it(log.begin(), log.end(), kCreate), end; it != end; ++it) names.push_back((*it)[1]);
    return names;
  };
  CHECK(eventually([&] {
    const auto names = created();
    return std::none_of(names.begin(), names.end(), [](const std::string& name) {
      return runProgram({"docker", "inspect", "--type", "container", name}).exitCode == 0 &&
             runProgram({"docker", "inspect", "--format", "{{.State.Status}}", name}).out == "created\n";
    });
  }, std::chrono::seconds(30)));
}

TEST_CASE("drill: a container whose removal failed is asked again once the engine answers", "[security][outage]") {
  EngineRelay relay;
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[]},"poolStrategy":"secure","poolSize":0,
                          "cleanup":{"removalRetryMs":200,"removalRetryMaxMs":1000}})";
  launch.env = {{"DOCKER_HOST", relay.dockerHost()}};
  ServerProcess server(launch);
  relay.setMode("fail-delete");
  auto r = execute(server, "echo used once");
  INFO(r.body);
  REQUIRE(r.status == 200);
  const std::string id = str(parseObject(r.body).at("containerId"));
  // secure: destroyed after its run; the engine fails the removal. One removal asks up to 60
  // times within ~3 s; more failures than that mean the engine did not forget the container.
  const auto failures = [&] {
    const std::string log = relay.requests();
    const std::string line = "FAILED DELETE /v1.41/containers/" + id;
    int n = 0;
    for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++n;
    return n;
  };
  REQUIRE(eventually([&] { return failures() > 60; }, std::chrono::seconds(30)));
  relay.mark("--- engine back ---");
  relay.setMode("pass");
  const auto askedAgain = [&] {
    const std::string log = relay.requests();
    const auto back = log.find("--- engine back ---");
    return back != std::string::npos && log.find("DELETE /v1.41/containers/" + id, back) != std::string::npos;
  };
  CHECK(eventually(askedAgain, std::chrono::seconds(20)));
  CHECK(eventually([&] { return !containerExists(id); }, std::chrono::seconds(20)));
}

TEST_CASE("drill: a session whose container was killed from outside is reported gone, then starts afresh", "[security][outage]") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[]}})";
  ServerProcess server(launch);
  auto first = execute(server, "echo kept > /sandbox/state.txt; echo written", "drill-session");
  INFO(first.body);
  REQUIRE(first.status == 200);
  const auto ids = containersWithLabel("isol8.session=drill-session");
  REQUIRE(ids.size() == 1);
  REQUIRE(runProgram({"docker", "kill", ids[0]}).exitCode == 0);

  auto gone = execute(server, "cat /sandbox/state.txt", "drill-session");
  INFO(gone.body);
  CHECK(gone.status == 410);
  CHECK(errorOf(gone.body) ==
        "The session's container is gone (stopped or removed outside isol8); its files are lost. Start a new session.");
  // Not listed any more; the same id now names a new, empty session.
  auto sessions = httpRequest("GET", server.url() + "/sessions", {}, {bearer(server.masterKey())});
  CHECK(sessions.body.find("drill-session") == std::string::npos);
  auto fresh = execute(server, "cat /sandbox/state.txt 2>/dev/null || echo empty", "drill-session");
  INFO(fresh.body);
  CHECK(fresh.status == 200);
  CHECK(str(parseObject(fresh.body).at("stdout")) == "empty\n");

  // The file routes say the same about a killed container.
  const auto again = containersWithLabel("isol8.session=drill-session");
  REQUIRE(again.size() == 1);
  REQUIRE(runProgram({"docker", "kill", again[0]}).exitCode == 0);
  auto file = httpRequest("GET", server.url() + "/file?sessionId=drill-session&path=/sandbox/x",
                                       {}, {bearer(server.masterKey())});
  INFO(file.body);
  CHECK(file.status == 410);
}

TEST_CASE("drill: a killed server's leftover container is spared by cleanup while it lives, removed when it restarts",
          "[security][outage]") {
  EngineRelay relay;
  TempDir config;
  config.write("config.json", R"({"server":{"prewarm":[]},"poolSize":0})");
  const std::string port = std::to_string(freeLoopbackPort());
  ServerLaunch launch;
  // The same config file and port: the restarted server is the same owner.
  launch.extraArgs = {"--config", config.path + "/config.json", "--port", port};
  launch.env = {{"DOCKER_HOST", relay.dockerHost()}};
  // The engine hangs on starting a container: created and labelled, never started, so
  // nothing (no AutoRemove) takes it away when its server dies.
  relay.setMode("hold /start");
  std::string id;
  {
    ServerProcess first(launch);
    BackgroundProcess client({"curl", "-s", "-m", "60", "-H", "Authorization: Bearer " + first.masterKey(), "-H",
                              "Content-Type: application/json", "-d", executeBody("echo never"), first.url() + "/execute"});
    static const std::regex kHeld(R"(HELD POST /v1\.41/containers/([0-9a-f]{64})/start)");
    REQUIRE(eventually([&] {
      std::smatch m;
      const std::string log = relay.requests();
      if (!std::regex_search(log, m, kHeld)) return false;
      id = m[1];
      return true;
    }, std::chrono::seconds(30)));
    // Its server lives: cleanup does not list it.
    for (const auto& c : isol8::listIsol8Containers()) CHECK(c.id != id);
    kill(first.pid(), SIGKILL);
    first.stop();
  }
  struct RemoveLeftover {
    const std::string& id;
    ~RemoveLeftover() { runProgram({"docker", "rm", "-f", id}); }
  } removeLeftover{id};
  REQUIRE(containerExists(id));  // the leftover
  bool listed = false;
  for (const auto& c : isol8::listIsol8Containers()) listed = listed || c.id == id;
  CHECK(listed);  // a dead owner's: cleanup would take it

  relay.setMode("pass");
  ServerProcess second(launch);
  CHECK(eventually([&] { return !containerExists(id); }, std::chrono::seconds(20)));
  CHECK_THAT(second.output(), Catch::Contains("[INFO] Removed 1 container(s) left by an earlier run"));
}
