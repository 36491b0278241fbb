// One behaviour list, run against DockerIsol8 and against RemoteIsol8 talking to a real
// isol8-server: the two engines of the Engine interface must answer alike. Then what only
// the remote engine has (keys, sessions, the stream's connection).
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "isol8/docker_isol8.hpp"
#include "isol8/remote_isol8.hpp"
#include "server_fixture.hpp"
#include "support.hpp"

using namespace isol8;
using namespace isol8::test;

namespace {

std::string uniqueId(const std::string& prefix) {
  std::random_device random;
  return prefix + "-" + std::to_string(random()) + std::to_string(random());
}

// Stops the engine at the end of the test (a remote session is deleted then).
struct ScopedEngine {
  std::unique_ptr<Engine> engine;
  ~ScopedEngine() {
    try {
      engine->stop();
    } catch (const std::exception&) {
    }
  }
  Engine* operator->() const { return engine.get(); }
};

struct Local {
  ScopedEngine make(EngineOptions options, const std::optional<std::string>& session = std::nullopt) {
    if (session) options.mode = ExecutionMode::persistent;
    return ScopedEngine{std::make_unique<DockerIsol8>(options)};
  }
};

struct Remote {
  ServerProcess server;
  ScopedEngine make(EngineOptions options, const std::optional<std::string>& session = std::nullopt) {
    return ScopedEngine{std::make_unique<RemoteIsol8>(RemoteOptions{server.url(), server.masterKey(), session}, options)};
  }
};

ExecutionRequest python(const std::string& code) { return codeRequest("python", code); }

// TLS in front of the server (isol8-server speaks plain HTTP): decrypts, forwards to the
// backend port, and prints the first line of each connection's first read (what was asked).
constexpr const char* kTlsProxy = R"PY(
import asyncio, ssl, sys
port, backend, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
async def pump(reader, writer, first):
    try:
        while data := await reader.read(65536):
            if first:
                print('REQUEST', data.split(b'\r\n')[0].decode(errors='replace'), flush=True)
                first = False
            writer.write(data)
            await writer.drain()
    except Exception:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass
async def handle(client_reader, client_writer):
    try:
        reader, writer = await asyncio.open_connection('127.0.0.1', backend)
    except Exception:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, writer, True), pump(reader, client_writer, False))
async def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, '127.0.0.1', port, ssl=context)
    async with server:
        await server.serve_forever()
asyncio.run(main())
)PY";

std::vector<StreamEvent> drain(ExecutionStream stream) {
  std::vector<StreamEvent> events;
  for (const auto& e : stream) events.push_back(e);
  return events;
}

std::string joined(const std::vector<StreamEvent>& events, StreamEvent::Type type, StreamEvent::Phase phase) {
  std::string out;
  for (const auto& e : events)
    if (e.type == type && e.phase == phase) out += e.data;
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("engines: hello on stdout, exit 0", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  const auto result = engine->execute(python("print('hello')"));
  CHECK(result.stdoutText == "hello\n");
  CHECK(result.exitCode == 0);
  CHECK_FALSE(result.timedOut);
}

TEMPLATE_TEST_CASE("engines: the exit code is kept", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  CHECK(engine->execute(python("import sys; sys.exit(42)")).exitCode == 42);
}

TEMPLATE_TEST_CASE("engines: stderr apart from stdout", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  const auto result = engine->execute(python("import sys\nprint('out')\nprint('err', file=sys.stderr)"));
  CHECK(result.stdoutText == "out\n");
  CHECK(result.stderrText == "err\n");
}

TEMPLATE_TEST_CASE("engines: stdin and env reach the program", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  auto request = python("import os, sys\nprint(sys.stdin.read().upper(), os.environ['GREETING'])");
  request.stdinText = "abc";
  request.env["GREETING"] = "hey";
  CHECK(engine->execute(request).stdoutText == "ABC hey\n");
}

TEMPLATE_TEST_CASE("engines: binary files in, outputPaths out", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  auto request = python(
      "data = open('/sandbox/in/data.bin', 'rb').read()\n"
      "open('/sandbox/out.bin', 'wb').write(data[::-1])\n");
  const std::string bytes("\x00\x01\x80\xfe\xff", 5);
  request.files["/sandbox/in/data.bin"] = bytes;
  request.outputPaths = {"/sandbox/out.bin", "/sandbox/missing.bin"};
  const auto result = engine->execute(request);
  CHECK(result.exitCode == 0);
  REQUIRE(result.files.count("/sandbox/out.bin"));
  CHECK(result.files.at("/sandbox/out.bin") == std::string(bytes.rbegin(), bytes.rend()));
  CHECK_FALSE(result.files.count("/sandbox/missing.bin"));
}

TEMPLATE_TEST_CASE("engines: a timeout kills the run (137, timedOut)", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  auto request = python("import time\nprint('start', flush=True)\ntime.sleep(60)");
  request.timeoutMs = 2000;
  const auto started = std::chrono::steady_clock::now();
  const auto result = engine->execute(request);
  CHECK(result.timedOut);
  CHECK(result.exitCode == 137);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEMPLATE_TEST_CASE("engines: a runtime error is a non-zero exit with the traceback", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  const auto result = engine->execute(python("raise ValueError('boom')"));
  CHECK(result.exitCode != 0);
  CHECK_THAT(result.stderrText, Catch::Contains("ValueError: boom"));
}

TEMPLATE_TEST_CASE("engines: secrets are masked", "[remote-engine]", Local, Remote) {
  TestType backend;
  EngineOptions options;
  options.secrets["API_TOKEN"] = "s3cr3t-value-42";
  auto engine = backend.make(options);
  const auto result = engine->execute(python("import os\nprint('token:', os.environ['API_TOKEN'])"));
  CHECK(result.stdoutText == "token: ***\n");
  const auto events = drain(engine->executeStream(python("import os\nprint(os.environ['API_TOKEN'])")));
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::code) == "***\n");
}

TEMPLATE_TEST_CASE("engines: a stream is stdout chunks, then exit 0", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  const auto events = drain(engine->executeStream(python("for i in range(3): print(i, flush=True)")));
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type == StreamEvent::Type::exit);
  CHECK(events.back().data == "0");
  for (std::size_t i = 0; i + 1 < events.size(); ++i) CHECK(events[i].type == StreamEvent::Type::stdout_data);
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::code) == "0\n1\n2\n");
}

TEMPLATE_TEST_CASE("engines: a stream shows the setup phase first", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  auto request = python("print('code ran')");
  request.setupScript = "echo setting-up";
  const auto events = drain(engine->executeStream(request));
  REQUIRE_FALSE(events.empty());
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::setup) == "setting-up\n");
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::code) == "code ran\n");
  CHECK(events.front().phase == StreamEvent::Phase::setup);
  CHECK(events.back().type == StreamEvent::Type::exit);
  CHECK(events.back().phase == StreamEvent::Phase::code);
  CHECK(events.back().data == "0");
}

// The remote stream's result() comes from the server's `result` event (docs/http-api.md).
TEMPLATE_TEST_CASE("engines: a stream's result() is the whole result", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({});
  auto request = python("import sys\nprint('out')\nprint('err', file=sys.stderr)\nopen('/sandbox/r.txt', 'w').write('kept')\nsys.exit(4)");
  request.outputPaths = {"/sandbox/r.txt"};
  ExecutionStream stream = engine->executeStream(request);
  std::string streamed;
  for (const auto& e : stream)
    if (e.type == StreamEvent::Type::stdout_data) streamed += e.data;
  CHECK(streamed == "out\n");
  const auto result = stream.result();
  REQUIRE(result);
  CHECK(result->exitCode == 4);
  CHECK(result->stdoutText == "out\n");
  CHECK(result->stderrText == "err\n");
  CHECK(result->files == std::map<std::string, std::string>{{"/sandbox/r.txt", "kept"}});
  CHECK_FALSE(result->executionId.empty());
}

TEMPLATE_TEST_CASE("engines: a session keeps state and files (binary) across calls", "[remote-engine]", Local, Remote) {
  TestType backend;
  auto engine = backend.make({}, uniqueId("state"));
  CHECK(engine->execute(python("open('/sandbox/counter.txt', 'w').write('1')")).exitCode == 0);
  const std::string bytes("\x00\xff\x10 binary\n", 10);
  engine->putFile("/sandbox/upload.bin", bytes);
  CHECK(engine->getFile("/sandbox/upload.bin") == bytes);
  const auto result = engine->execute(
      python("print(open('/sandbox/counter.txt').read(), len(open('/sandbox/upload.bin', 'rb').read()))"));
  CHECK(result.stdoutText == "1 10\n");
  CHECK(engine->getFile("/sandbox/counter.txt") == "1");
}

// ---- remote only -------------------------------------------------------------------------

TEST_CASE("remote: a wrong key is refused with the server's message", "[remote-engine]") {
  ServerProcess server;
  RemoteIsol8 remote(RemoteOptions{server.url(), "not-the-key", std::nullopt});
  CHECK_THROWS_WITH(remote.execute(python("print(1)")), Catch::Contains("Invalid API key"));
  const auto events = drain(remote.executeStream(python("print(1)")));
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == StreamEvent::Type::error);
  CHECK_THAT(events[0].data, Catch::Contains("Invalid API key"));
  CHECK(events[1].type == StreamEvent::Type::exit);
  CHECK(events[1].data == "1");
}

TEST_CASE("remote: sessions are listed and deleted", "[remote-engine]") {
  ServerProcess server;
  const std::string id = uniqueId("listed");
  RemoteIsol8 session(RemoteOptions{server.url(), server.masterKey(), id});
  REQUIRE(session.execute(python("print(1)")).exitCode == 0);
  RemoteIsol8 admin(RemoteOptions{server.url(), server.masterKey(), std::nullopt});
  auto listed = [&] {
    for (const auto& s : admin.listSessions())
      if (s.id == id) return true;
    return false;
  };
  CHECK(listed());
  admin.deleteSession(id);
  CHECK_FALSE(listed());
}

TEST_CASE("remote: a stream in a session sees what a buffered execute left", "[remote-engine]") {
  ServerProcess server;
  RemoteIsol8 engine(RemoteOptions{server.url(), server.masterKey(), uniqueId("mixed")});
  REQUIRE(engine.execute(python("open('/sandbox/note.txt', 'w').write('from-http')")).exitCode == 0);
  const auto events = drain(engine.executeStream(python("print(open('/sandbox/note.txt').read())")));
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::code) == "from-http\n");
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().data == "0");
  engine.stop();
}

TEST_CASE("remote: dropping a stream mid-run stops the run on the server", "[remote-engine]") {
  ServerProcess server;
  RemoteIsol8 engine(RemoteOptions{server.url(), server.masterKey(), uniqueId("dropped")});
  auto loop = python(
      "import os, time\n"
      "open('/tmp/loop.pid', 'w').write(str(os.getpid()))\n"
      "while True:\n"
      "    print('tick', flush=True)\n"
      "    time.sleep(0.1)\n");
  loop.timeoutMs = 30000;  // the server's maximum; the checks below end well before it
  {
    auto stream = engine.executeStream(loop);
    auto first = stream.nextBlocking();
    REQUIRE(first);
    INFO(first->data);
    REQUIRE(first->type == StreamEvent::Type::stdout_data);
  }  // destroyed: the connection closes
  // The server serves the session again, and the loop's process is gone (well before its
  // 30 s timeout could have ended it).
  const auto check = python(
      "import os\n"
      "pid = open('/tmp/loop.pid').read()\n"
      "print('alive' if os.path.exists('/proc/' + pid) else 'gone')\n");
  const auto started = std::chrono::steady_clock::now();
  std::string state;
  while (std::chrono::steady_clock::now() - started < std::chrono::seconds(15)) {
    state = engine.execute(check).stdoutText;
    if (state == "gone\n") break;
  }
  CHECK(state == "gone\n");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  engine.stop();
}

TEST_CASE("remote: https and wss, the certificate verified", "[remote-engine]") {
  ServerProcess server;
  TempDir dir;
  const std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
  REQUIRE(runProgram({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                      "1", "-subj", "/CN=isol8-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"})
              .exitCode == 0);
  const int port = freeLoopbackPort();
  BackgroundProcess proxy(
      {"python3", dir.write("proxy.py", kTlsProxy), std::to_string(port), std::to_string(server.port()), cert, key});
  if (!waitForPort(port)) FAIL("the TLS proxy did not start: " << proxy.output());
  const std::string url = "https://localhost:" + std::to_string(port);

  // Not in the system trust store: refused.
  RemoteIsol8 untrusting(RemoteOptions{url, server.masterKey(), std::nullopt});
  CHECK_THROWS_WITH(untrusting.execute(python("print(1)")), Catch::Contains("certificate verify failed"));

  setenv("SSL_CERT_FILE", cert.c_str(), 1);  // OpenSSL's default verify paths read it
  RemoteIsol8 remote(RemoteOptions{url, server.masterKey(), uniqueId("tls")});
  CHECK(remote.execute(python("print('over tls')")).stdoutText == "over tls\n");
  const auto events = drain(remote.executeStream(python("print('over wss')")));
  CHECK(joined(events, StreamEvent::Type::stdout_data, StreamEvent::Phase::code) == "over wss\n");
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().data == "0");
  remote.stop();
  unsetenv("SSL_CERT_FILE");
  const std::string log = proxy.output();
  INFO(log);
  CHECK_THAT(log, Catch::Contains("REQUEST POST /execute HTTP/1.1"));
  CHECK_THAT(log, Catch::Contains("REQUEST GET /execute/ws HTTP/1.1"));  // the stream went over wss, not SSE
  CHECK_THAT(log, !Catch::Contains("/execute/stream"));
}
