// Resource limits against the real engine: time, memory, processes, output.
#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::runCode;
using isol8::test::runProgram;

TEST_CASE("timeout kills a busy loop and every child process", "[limits][timeout]") {
  EngineOptions options;
  options.persist = true;  // keep the container to look inside after the run
  DockerIsol8 engine(options);
  ExecutionRequest req;
  req.runtime = "python";
  req.timeoutMs = 1500;
  req.code =
      "import subprocess\n"
      "subprocess.Popen(['sh', '-c', 'sleep 300'])\n"
      "subprocess.Popen(['sh', '-c', 'while :; do :; done'], start_new_session=True)\n"
      "print('started', flush=True)\n"
      "while True: pass\n";
  auto result = engine.execute(req);
  CHECK(result.timedOut);
  CHECK(result.exitCode == 137);
  CHECK(result.stdoutText == "started\n");
  CHECK_THAT(result.stderrText, Catch::EndsWith("--- EXECUTION TIMED OUT ---"));
  CHECK(result.durationMs >= 1400);
  CHECK(result.durationMs < 5000);
  // Nothing of uid 100 survives: only the supervisor (root) remains.
  auto top = runProgram({"docker", "top", result.containerId, "-o", "pid,uid,comm"});
  CHECK_THAT(top.out, !Catch::Matches(R"((.|\n)*\n\s*\d+\s+100\s(.|\n)*)"));
  CHECK_THAT(top.out, Catch::Contains("supervisor"));
  engine.stop();
  // stop() leaves a `persist` container alone (that is what persist is for).
  CHECK(isol8::test::containersWithLabel("isol8.engine=" + engine.engineId()) ==
        std::vector<std::string>{result.containerId});
  runProgram({"docker", "rm", "-f", result.containerId});
}

TEST_CASE("a memory bomb is killed by the OOM killer and reported", "[limits][memory]") {
  EngineOptions small;
  small.memoryLimit = "64m";
  auto bomb = runCode("python", "a = b'x' * (256 * 1024 * 1024)\nprint('survived')", small);
  CHECK(bomb.oomKilled);
  CHECK(bomb.exitCode == 137);
  CHECK(bomb.stdoutText == "");
  CHECK_FALSE(bomb.timedOut);
  // Control: the same allocation fits in 512m, and an ordinary failure is not an OOM kill.
  EngineOptions big;
  big.memoryLimit = "512m";
  CHECK(runCode("python", "a = b'x' * (256 * 1024 * 1024)\nprint('survived')", big).stdoutText == "survived\n");
  auto failing = runCode("python", "raise SystemExit(137)", small);
  CHECK(failing.exitCode == 137);
  CHECK_FALSE(failing.oomKilled);
}

TEST_CASE("a fork bomb is contained by the pids limit", "[limits][pids]") {
  EngineOptions options;
  options.pidsLimit = 32;
  auto r = runCode("python",
                   "import os, time\n"
                   "n = 0\n"
                   "try:\n"
                   "    while True:\n"
                   "        if os.fork() == 0:\n"
                   "            time.sleep(60); os._exit(0)\n"
                   "        n += 1\n"
                   "except OSError as e:\n"
                   "    print('blocked', e.errno, n < 32)\n",
                   options);
  CHECK(r.stdoutText == "blocked 11 True\n");  // EAGAIN before 32 processes
}

TEST_CASE("cpuLimit throttles: a 0.2 CPU sandbox gets about a fifth of a core", "[limits][cpu]") {
  const std::string burn =
      "import time\nstart = time.time(); cpu0 = time.process_time()\n"
      "while time.time() - start < 1.0: pass\n"
      "print(round((time.process_time() - cpu0) / (time.time() - start), 1))\n";
  EngineOptions slow;
  slow.cpuLimit = 0.2;
  auto share = std::stod(runCode("python", burn, slow).stdoutText);
  CHECK(share <= 0.3);
  // Control: unthrottled, the same loop gets clearly more. Relative, not absolute: on a
  // loaded 2-core machine (tests run two at a time) a full core is not on offer.
  auto full = std::stod(runCode("python", burn).stdoutText);
  CHECK(full >= share + 0.15);
}

TEST_CASE("output is capped per stream with the truncation marker", "[limits][output]") {
  EngineOptions options;
  options.maxOutputSize = 1024;
  auto r = runCode("python", "import sys\nsys.stdout.write('x' * 10000)\nsys.stderr.write('small')", options);
  CHECK(r.truncated);
  CHECK(r.stdoutText == std::string(1024, 'x') + "\n\n--- OUTPUT TRUNCATED (10000 bytes, limit: 1024) ---");
  CHECK(r.stderrText == "small");
  auto ok = runCode("python", "print('fits')", options);
  CHECK_FALSE(ok.truncated);
}
