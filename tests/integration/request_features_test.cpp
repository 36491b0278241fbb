// Request features against the real engine: injected files, output files, setup scripts,
// secrets (environment of the code only, masked everywhere), the output cap.
#include <catch2/catch.hpp>

#include "isol8/error.hpp"
#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::codeRequest;
using isol8::StreamEvent;

namespace {

std::string streamed(DockerIsol8& engine, const ExecutionRequest& req, StreamEvent::Type type) {
  std::string text;
  for (const auto& e : engine.executeStream(req))
    if (e.type == type) text += e.data;
  return text;
}

}  // namespace

TEST_CASE("files are written before the code runs, parents created, binary safe", "[files]") {
  DockerIsol8 engine;
  auto req = codeRequest("python",
                     "print(open('/sandbox/a/b/c.txt').read(), end='|')\n"
                     "print(open('/tmp/x/y.txt').read(), end='|')\n"
                     "print(list(open('/sandbox/bin.dat','rb').read()))");
  req.files["/sandbox/a/b/c.txt"] = "nested";
  req.files["/tmp/x/y.txt"] = "in tmp";
  req.files["/sandbox/bin.dat"] = std::string("\0\x01\xff", 3);
  auto r = engine.execute(req);
  CHECK(r.stdoutText == "nested|in tmp|[0, 1, 255]\n");
  // Written as the sandbox user.
  req = codeRequest("bash", "stat -c %u /sandbox/owned.txt");
  req.files["/sandbox/owned.txt"] = "x";
  CHECK(engine.execute(req).stdoutText == "100\n");
}

TEST_CASE("file paths outside /sandbox and /tmp are refused", "[files][errors]") {
  DockerIsol8 engine;
  for (const std::string path : {"/etc/evil", "/sandbox/../etc/evil", "relative.txt", "/sandbox", "/tmpx/a"}) {
    auto req = codeRequest("bash", "true");
    req.files[path] = "x";
    CHECK_THROWS_WITH(engine.execute(req), "File path must be absolute and inside /sandbox or /tmp: \"" + path + "\"");
  }
  auto req = codeRequest("bash", "true");
  req.outputPaths = {"/proc/self/environ"};
  CHECK_THROWS_WITH(engine.execute(req), Catch::Contains("inside /sandbox or /tmp"));
}

TEST_CASE("outputPaths come back in result.files - missing ones are left out", "[files]") {
  DockerIsol8 engine;
  auto req = codeRequest("python",
                     "import os\nos.makedirs('/sandbox/out', exist_ok=True)\n"
                     "open('/sandbox/out/r.bin','wb').write(bytes([0,1,2,255]))\n"
                     "open('/tmp/t.txt','w').write('tmp text')\n"
                     "os.symlink('/etc/passwd', '/sandbox/link')");
  req.outputPaths = {"/sandbox/out/r.bin", "/tmp/t.txt", "/sandbox/nope.txt", "/sandbox/link"};
  auto r = engine.execute(req);
  REQUIRE(r.exitCode == 0);
  CHECK(r.files.size() == 2);
  CHECK(r.files["/sandbox/out/r.bin"] == std::string("\0\x01\x02\xff", 4));
  CHECK(r.files["/tmp/t.txt"] == "tmp text");
  CHECK(r.files.count("/sandbox/link") == 0);  // a symlink is not followed out of the sandbox's view
}

TEST_CASE("setupScript runs before the code as the sandbox user - failure stops the run", "[setup]") {
  DockerIsol8 engine;
  auto req = codeRequest("python", "print(open('/sandbox/hello.txt').read().strip())");
  req.setupScript = "echo prepared > /sandbox/hello.txt\nid -u >> /sandbox/hello.txt";
  CHECK(engine.execute(req).stdoutText == "prepared\n100\n");
  req.setupScript = "echo broken >&2; exit 5";
  CHECK_THROWS_WITH(engine.execute(req), "Setup script failed (exit code 5): broken");
}

TEST_CASE("secrets reach the code only and are masked, also when split across writes", "[secrets]") {
  const std::string secret = "SuperSecretValue42";
  EngineOptions options;
  options.secrets["API_TOKEN"] = secret;
  options.persist = true;  // to inspect the container afterwards
  DockerIsol8 engine(options);
  // The program writes the value in two pieces with a pause, so it arrives in two chunks.
  auto req = codeRequest("python",
                     "import os, sys, time\n"
                     "v = os.environ['API_TOKEN']\n"
                     "for stream in (sys.stdout, sys.stderr):\n"
                     "    stream.write('token=' + v[:8]); stream.flush(); time.sleep(0.3)\n"
                     "    stream.write(v[8:] + ' end\\n'); stream.flush()\n");
  auto r = engine.execute(req);
  CHECK(r.stdoutText == "token=*** end\n");
  CHECK(r.stderrText == "token=*** end\n");

  std::string events;
  for (const auto& e : engine.executeStream(req)) {
    CHECK(e.data.find(secret) == std::string::npos);
    CHECK(e.data.find("SuperSec") == std::string::npos);  // not even the first half alone
    events += e.data;
  }
  CHECK(events.find(secret) == std::string::npos);
  CHECK_THAT(events, Catch::Contains("token=*** end\n"));

  // Not in the container's environment (docker inspect), not visible to setup scripts.
  auto inspect = isol8::test::runProgram({"docker", "inspect", "-f", "{{json .Config.Env}}", r.containerId});
  CHECK(inspect.exitCode == 0);
  CHECK(inspect.out.find(secret) == std::string::npos);
  auto setup = codeRequest("bash", "cat /sandbox/seen");
  setup.setupScript = "echo \"setup saw: ${API_TOKEN:-nothing}\" > /sandbox/seen";
  CHECK(engine.execute(setup).stdoutText == "setup saw: nothing\n");
  for (const auto& id : isol8::test::containersWithLabel("isol8.engine=" + engine.engineId()))
    isol8::test::runProgram({"docker", "rm", "-f", id});
}

TEST_CASE("maxOutputSize truncates buffered output with the marker and the flag", "[output]") {
  EngineOptions options;
  options.maxOutputSize = 1024;
  DockerIsol8 engine(options);
  auto big = engine.execute(codeRequest("python", "print('y' * 10000)"));
  CHECK(big.truncated);
  CHECK(big.stdoutText == std::string(1024, 'y') + "\n\n--- OUTPUT TRUNCATED (10001 bytes, limit: 1024) ---");
  auto small = engine.execute(codeRequest("python", "print('small')"));
  CHECK_FALSE(small.truncated);
  CHECK(small.stdoutText == "small\n");
  // The streamed form shows the same bytes.
  CHECK(streamed(engine, codeRequest("python", "print('y' * 10000)"), StreamEvent::Type::stdout_data) == big.stdoutText);
}
