// DockerIsol8::execute end to end: result fields, exact output, request features, cleanup.
#include <chrono>
#include <mutex>
#include <regex>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "isol8/error.hpp"
#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::containersWithLabel;
using isol8::test::runCode;

TEST_CASE("a result carries every field", "[engine]") {
  auto r = runCode("python", "import sys; print('out'); print('err', file=sys.stderr)");
  CHECK(r.stdoutText == "out\n");
  CHECK(r.stderrText == "err\n");
  CHECK(r.exitCode == 0);
  CHECK_FALSE(r.truncated);
  CHECK_FALSE(r.timedOut);
  CHECK_FALSE(r.oomKilled);
  CHECK(r.runtime == "python");
  CHECK(std::regex_match(r.executionId, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(std::regex_match(r.containerId, std::regex("[0-9a-f]{64}")));
  CHECK(std::regex_match(r.timestamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(r.durationMs > 0);
  auto slow = runCode("python", "import time; time.sleep(0.5)");
  CHECK(slow.durationMs >= 450);
}

TEST_CASE("python starts without Debian's startup hooks (docker/python.Dockerfile)", "[engine][python]") {
  // Each would cost every run's interpreter start; user-site packages still load (site runs).
  auto r = runCode("python", "import sys, site\n"
                             "print(sorted(m for m in ('sitecustomize', '_distutils_hack', 'apport_python_hook') "
                             "if m in sys.modules), site.ENABLE_USER_SITE)");
  CHECK(r.stdoutText == "[] True\n");
}

TEST_CASE("a result reports the run's CPU time, peak memory and wall time", "[engine][usage]") {
  // 200 MiB touched page by page, then kept: the process's resident set reaches it.
  auto memory = runCode("python", "b = bytearray(200 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('ok')");
  REQUIRE(memory.stdoutText == "ok\n");
  CHECK(memory.resourceUsage.peakMemoryBytes >= 200LL * 1024 * 1024);
  CHECK(memory.resourceUsage.peakMemoryBytes < 400LL * 1024 * 1024);
  // A second of CPU spinning (user time); the wall time covers it.
  auto spin = runCode("python", "import time\nend = time.process_time() + 1\nwhile time.process_time() < end: pass");
  REQUIRE(spin.exitCode == 0);
  CHECK(spin.resourceUsage.cpuUserMs + spin.resourceUsage.cpuSystemMs >= 900);
  CHECK(spin.resourceUsage.wallMs >= 900);
  CHECK(spin.resourceUsage.wallMs == spin.durationMs);
  CHECK(spin.resourceUsage.peakMemoryBytes < 100LL * 1024 * 1024);  // the small process this time
  // A child's CPU time counts too: the subshell spins, the shell waits for it.
  auto child = runCode("bash", "( end=$((SECONDS + 2)); while [ $SECONDS -lt $end ]; do :; done ); echo done");
  REQUIRE(child.stdoutText == "done\n");
  CHECK(child.resourceUsage.cpuUserMs + child.resourceUsage.cpuSystemMs >= 900);
}

// Logging is per engine (no process-wide flag): a sink sees its own engine's work only, and
// another engine's debug (stderr) does not reach it.
TEST_CASE("a log sink receives its own engine's lines, not another engine's", "[engine]") {
  struct Received {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::vector<std::string> all() {
      std::lock_guard lock(mutex);
      return lines;
    }
  };
  auto received = std::make_shared<Received>();
  EngineOptions withSink;
  withSink.logSink = [received](isol8::LogLevel, std::string_view line) {
    std::lock_guard lock(received->mutex);
    received->lines.emplace_back(line);
  };
  EngineOptions debugToStderr;
  debugToStderr.debug = true;
  DockerIsol8 listened(withSink);
  DockerIsol8 other(debugToStderr);
  const auto mine = listened.execute(isol8::test::codeRequest("python", "print(1)"));
  const auto theirs = other.execute(isol8::test::codeRequest("python", "print(2)"));
  REQUIRE(mine.exitCode == 0);
  REQUIRE(theirs.exitCode == 0);
  const auto lines = received->all();
  INFO(lines.size() << " lines");
  auto mentions = [&lines](const std::string& text) {
    for (const auto& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(mentions("container " + mine.containerId.substr(0, 12) + " started"));
  CHECK_FALSE(mentions(theirs.containerId.substr(0, 12)));
}

TEST_CASE("output is byte-exact, binary included", "[engine]") {
  auto r = runCode("python", "import sys\nsys.stdout.buffer.write(bytes(range(256)) * 3)\nsys.stdout.write('\\n\\n \\t')");
  std::string expected;
  for (int rep = 0; rep < 3; ++rep)
    for (int i = 0; i < 256; ++i) expected.push_back(static_cast<char>(i));
  expected += "\n\n \t";
  CHECK(r.stdoutText == expected);
}

TEST_CASE("large output and large code pass through intact", "[engine]") {
  auto big = runCode("bash", "head -c 3000000 /dev/zero | tr '\\0' 'y'");
  CHECK(big.stdoutText == std::string(3000000, 'y').substr(0, 1048576) + "\n\n--- OUTPUT TRUNCATED (3000000 bytes, limit: 1048576) ---");
  std::string code = "x = 0\n";
  for (int i = 0; i < 20000; ++i) code += "x += 1\n";  // ~140 KB: goes through a file
  code += "print(x)\n";
  CHECK(runCode("python", code).stdoutText == "20000\n");  // the script rides in the run frame
  std::string huge = "x = 0\n";
  for (int i = 0; i < 200000; ++i) huge += "x += 1\n";  // ~1.4 MB: written before the run
  huge += "print(x)\n";
  CHECK(runCode("python", huge).stdoutText == "200000\n");
}

TEST_CASE("request env, stdin, workdir and cmd", "[engine]") {
  DockerIsol8 engine;
  ExecutionRequest req;
  req.runtime = "python";
  req.code = "import os, sys; print(os.environ['A'], os.environ['B'], os.getcwd(), sys.stdin.read())";
  req.env = {{"A", "alpha"}, {"B", "beta gamma"}};
  req.stdinText = "from-stdin";
  req.workdir = "project/sub";
  CHECK(engine.execute(req).stdoutText == "alpha beta gamma /sandbox/project/sub from-stdin\n");

  ExecutionRequest cmd;
  cmd.runtime = "node";
  cmd.cmd = "echo hello-from-cmd | tr a-z A-Z; exit 42";
  auto r = engine.execute(cmd);
  CHECK(r.stdoutText == "HELLO-FROM-CMD\n");
  CHECK(r.exitCode == 42);
}

TEST_CASE("large stdin is delivered completely", "[engine]") {
  DockerIsol8 engine;
  ExecutionRequest req;
  req.runtime = "python";
  req.code = "import sys, hashlib; d = sys.stdin.buffer.read(); print(len(d), hashlib.sha256(d).hexdigest()[:16])";
  req.stdinText = std::string(5 * 1024 * 1024, 'z');
  auto r = engine.execute(req);
  CHECK(r.stdoutText == "5242880 " + std::string("ff2bb758455cfaae") + "\n");
}

TEST_CASE("invalid requests are refused before any container is made", "[engine][errors]") {
  DockerIsol8 engine;
  ExecutionRequest both;
  both.runtime = "python";
  both.code = "print(1)";
  both.cmd = "echo 1";
  CHECK_THROWS_WITH(engine.execute(both), Catch::Contains("mutually exclusive"));
  ExecutionRequest none;
  none.runtime = "python";
  none.code = "   ";
  CHECK_THROWS_WITH(engine.execute(none), "ExecutionRequest must include exactly one of: code, codeUrl, or cmd.");
  ExecutionRequest escape;
  escape.runtime = "python";
  escape.code = "print(1)";
  escape.workdir = "../../etc";
  CHECK_THROWS_WITH(engine.execute(escape), "Working directory must be inside /sandbox");
  EngineOptions badSeccomp;
  badSeccomp.security.seccomp = isol8::SeccompMode::custom;
  badSeccomp.security.customProfilePath = "/no/such/profile.json";
  DockerIsol8 custom(badSeccomp);
  ExecutionRequest ok;
  ok.runtime = "python";
  ok.code = "print(1)";
  CHECK_THROWS_WITH(custom.execute(ok), Catch::StartsWith("Failed to load custom seccomp profile at /no/such/profile.json: "));
  CHECK(containersWithLabel("isol8.engine=" + engine.engineId()).empty());
}

TEST_CASE("no container is left behind after success, failure, timeout or error", "[engine][cleanup]") {
  std::string label;
  {
    DockerIsol8 engine;
    label = "isol8.engine=" + engine.engineId();
    ExecutionRequest req;
    req.runtime = "bash";
    req.cmd = "echo fine";
    CHECK(engine.execute(req).exitCode == 0);
    req.cmd = "exit 9";
    CHECK(engine.execute(req).exitCode == 9);
    req.cmd = "sleep 30";
    req.timeoutMs = 500;
    CHECK(engine.execute(req).timedOut);
    req.timeoutMs.reset();
    req.cmd = "echo x";
    req.workdir = "/sandbox/../../sandbox-not";  // refused
    CHECK_THROWS(engine.execute(req));
    CHECK_FALSE(containersWithLabel(label).empty());  // the warm pool keeps containers...
    engine.stop();
    CHECK(containersWithLabel(label).empty());  // ...until stop()
    req.workdir.clear();
    CHECK(engine.execute(req).exitCode == 0);  // usable again after stop
  }
  // The destructor stops an engine that was not stopped.
  CHECK(containersWithLabel(label).empty());
}

TEST_CASE("a custom seccomp profile is applied", "[engine][seccomp]") {
  isol8::test::TempDir dir;
  // Allow everything except mkdir/mkdirat.
  auto path = dir.write("deny-mkdir.json",
                        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]})");
  EngineOptions options;
  options.security.seccomp = isol8::SeccompMode::custom;
  options.security.customProfilePath = path;
  auto r = runCode("python", "import os\ntry:\n  os.mkdir('/sandbox/d'); print('made')\nexcept OSError as e:\n  print('failed', e.errno)", options);
  CHECK(r.stdoutText == "failed 1\n");
  CHECK(runCode("python", "import os\nos.mkdir('/sandbox/d'); print('made')").stdoutText == "made\n");
}
