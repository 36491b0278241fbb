// Run isolation against the real engine: what one run leaves in its container (IPC objects,
// processes, files planted to fool the engine's helpers, a starved egress relay) must not
// reach a later run, a timed-out or orphaned run must not keep running, and the run cannot
// touch the container's PID 1. Each test performs the attack, then checks from a later run
// and from outside (docker top).
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <functional>
#include <future>
#include <sstream>
#include <thread>

#include "isol8/error.hpp"
#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::ExecutionResult;
using isol8::PoolStrategy;
using isol8::test::BackgroundProcess;
using isol8::test::codeRequest;
using isol8::test::countMarked;
using isol8::test::joined;
using isol8::test::randomMarker;
using isol8::test::sandboxProcesses;
using isol8::test::sandboxProcessesAfter;
using isol8::test::containersWithLabel;
using isol8::test::runProgram;
using isol8::test::shellRequest;
using Clock = std::chrono::steady_clock;

namespace {

// Removes a container at the end of a test whose engine died (no one else will).
struct RemoveAtEnd {
  std::string id;
  ~RemoveAtEnd() {
    if (!id.empty()) runProgram({"docker", "rm", "-f", id});
  }
};

// SysV shared memory, message queues and semaphores, POSIX message queues and /dev/shm files.
const std::string kIpcReport =
    "echo \"shm=$(($(wc -l </proc/sysvipc/shm)-1)) msg=$(($(wc -l </proc/sysvipc/msg)-1)) "
    "sem=$(($(wc -l </proc/sysvipc/sem)-1)) mq=$(ls -A /dev/mqueue | wc -l) devshm=$(ls -A /dev/shm | wc -l)\"";

// Copies the request's /sandbox/fake.sh to /sandbox/.local/bin (first in the sandbox's PATH)
// under each of `tools`.
std::string plant(const std::string& tools) {
  return "mkdir -p /sandbox/.local/bin && for t in " + tools +
         "; do cp /sandbox/fake.sh /sandbox/.local/bin/$t && chmod 755 /sandbox/.local/bin/$t; done";
}

// Calls `f` (an engine call) with a wall-clock bound, so an engine that hangs fails the test
// instead of hanging it: past `limit` the engine's containers are removed from outside (which
// ends whatever it waits for in them) and false is returned.
bool within(DockerIsol8& engine, std::chrono::seconds limit, const std::function<void()>& f) {
  auto done = std::async(std::launch::async, f);
  if (done.wait_for(limit) == std::future_status::ready) {
    done.get();
    return true;
  }
  for (const auto& id : containersWithLabel("isol8.engine=" + engine.engineId())) runProgram({"docker", "rm", "-f", id});
  try {
    done.get();
  } catch (const std::exception&) {
  }
  return false;
}

// A plain HTTP server on 0.0.0.0:<port> serving hello.txt (the egress tests' target).
struct HelloServer {
  isol8::test::TempDir dir;
  int port = isol8::test::freeLoopbackPort();
  std::unique_ptr<BackgroundProcess> process;
  HelloServer() {
    dir.write("hello.txt", "hello\n");
    process = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        "python3", "-m", "http.server", "--bind", "0.0.0.0", std::to_string(port), "--directory", dir.path});
    REQUIRE(isol8::test::waitForPort(port));
  }
};

}  // namespace

// ---- 1, 2: IPC objects --------------------------------------------------------------------

TEST_CASE("isolation: SysV IPC and POSIX message queues and /dev/shm do not survive into a later run", "[isolation]") {
  const auto strategy = GENERATE(PoolStrategy::fast, PoolStrategy::secure);
  INFO(isol8::toString(strategy));
  EngineOptions options;
  options.poolStrategy = strategy;
  DockerIsol8 engine(options);
  auto planted = engine.execute(shellRequest(
      "ipcmk -M 4096 >/dev/null; ipcmk -Q >/dev/null; ipcmk -S 1 >/dev/null; touch /dev/mqueue/isol8-q; "
      "echo x > /dev/shm/isol8-shm; " + kIpcReport));
  REQUIRE(planted.stdoutText == "shm=1 msg=1 sem=1 mq=1 devshm=1\n");  // they exist at the end of run 1
  // Every later run is clean, whichever container it gets; stop once one got run 1's container.
  bool reused = false;
  for (int i = 0; i < 10 && !reused; ++i) {
    auto check = engine.execute(shellRequest(kIpcReport));
    reused = check.containerId == planted.containerId;
    INFO("later run " << i + 1 << (reused ? " in run 1's container" : " in another container"));
    CHECK(check.stdoutText == "shm=0 msg=0 sem=0 mq=0 devshm=0\n");
  }
}

TEST_CASE("isolation: a SysV segment left behind does not eat the next run's memory", "[isolation]") {
  EngineOptions options;
  options.memoryLimit = "512m";
  DockerIsol8 engine(options);
  // 400 MiB of shared memory, touched (so it is charged to the container), left after exit.
  auto planted = engine.execute(codeRequest("python",
                                            "import ctypes\n"
                                            "libc = ctypes.CDLL(None, use_errno=True)\n"
                                            "libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]\n"
                                            "libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]\n"
                                            "libc.shmat.restype = ctypes.c_void_p\n"
                                            "size = 400 << 20\n"
                                            "shm = libc.shmget(0, size, 0o1000 | 0o600)\n"
                                            "addr = libc.shmat(shm, None, 0)\n"
                                            "ctypes.memset(addr, 1, size)\n"
                                            "print('segments', len(open('/proc/sysvipc/shm').read().splitlines()) - 1)\n"));
  INFO(planted.stderrText);
  REQUIRE(planted.stdoutText == "segments 1\n");
  bool reused = false;
  for (int i = 0; i < 8 && !reused; ++i) {
    auto next = engine.execute(codeRequest("python", "a = b'x' * (300 << 20)\nprint(len(a) >> 20)"));
    reused = next.containerId == planted.containerId;
    INFO("later run " << i + 1 << (reused ? " in run 1's container" : " in another container") << ": " << next.stderrText);
    CHECK(next.stdoutText == "300\n");
    CHECK(next.exitCode == 0);
    CHECK_FALSE(next.oomKilled);
  }
}

// ---- 3: helpers found through PATH ----------------------------------------------------------

TEST_CASE("isolation: a fake sh in PATH does not make the engine report an OOM kill", "[isolation]") {
  DockerIsol8 engine;
  auto attack = shellRequest(plant("sh cat kill tar bash") + "; exit 1");
  attack.files["/sandbox/fake.sh"] = "#!/bin/sh\necho 'oom_kill 99999999'\nexit 0\n";
  auto r = engine.execute(attack);
  INFO(r.stderrText);
  CHECK(r.exitCode == 1);
  CHECK_FALSE(r.oomKilled);
}

TEST_CASE("isolation: a fake sh that hangs does not stall later runs or reach them", "[isolation]") {
  EngineOptions options;
  options.poolSize = {1, 1};
  options.maxConcurrent = 1;
  DockerIsol8 engine(options);
  auto attack = shellRequest(plant("sh") + "; echo planted");
  attack.files["/sandbox/fake.sh"] = "#!/bin/sh\nexec /bin/sleep 100000\n";
  auto planted = engine.execute(attack);
  REQUIRE(planted.stdoutText == "planted\n");
  for (int i = 0; i < 4; ++i) {
    auto check = shellRequest("[ -e /sandbox/.local/bin/sh ] && echo planted-file-seen || echo clean");
    check.timeoutMs = 2000;
    ExecutionResult r;
    const auto started = Clock::now();
    const bool returned = within(engine, std::chrono::seconds(10), [&] { r = engine.execute(check); });
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    INFO("later run " << i + 1 << (r.containerId == planted.containerId ? " in run 1's container" : "") << " took "
                      << took.count() << " ms");
    REQUIRE(returned);  // (a hung engine: its containers were removed to end it)
    CHECK(r.stdoutText == "clean\n");
    CHECK(r.exitCode == 0);
    CHECK(took < std::chrono::seconds(5));
  }
  // Stopping the engine does not hang on the planted container either.
  CHECK(within(engine, std::chrono::seconds(10), [&] { engine.stop(); }));
}

TEST_CASE("isolation: a fake sh that claims the container is clean does not hide run 1's processes", "[isolation]") {
  DockerIsol8 engine;
  const std::string marker = randomMarker("leftover");
  auto attack = shellRequest("setsid bash -c 'touch /tmp/up; while :; do sleep 0.05; done' " + marker +
                             " >/dev/null 2>&1 </dev/null & until [ -e /tmp/up ]; do sleep 0.01; done; " +
                             plant("sh") + "; echo planted");
  attack.files["/sandbox/fake.sh"] = "#!/bin/sh\necho 'oom_kill 0'\nexit 0\n";
  auto planted = engine.execute(attack);
  REQUIRE(planted.stdoutText == "planted\n");
  bool reused = false;
  for (int i = 0; i < 10 && !reused; ++i) {
    auto check = engine.execute(
        shellRequest("echo \"procs=" + countMarked(marker) + " planted=$(ls /sandbox/.local/bin 2>/dev/null | wc -l)\""));
    reused = check.containerId == planted.containerId;
    INFO("later run " << i + 1 << (reused ? " in run 1's container" : " in another container"));
    CHECK(check.stdoutText == "procs=0 planted=0\n");
  }
}

// ---- 4, 5: processes left by a finished run -------------------------------------------------

TEST_CASE("isolation: a daemon left by a finished run is not alive afterwards nor in the next run", "[isolation]") {
  const auto strategy = GENERATE(PoolStrategy::fast, PoolStrategy::secure);
  INFO(isol8::toString(strategy));
  EngineOptions options;
  options.poolStrategy = strategy;
  DockerIsol8 engine(options);
  const std::string marker = randomMarker("heartbeat");
  // setsid + nohup + a double fork: the heartbeat loop is an orphan in its own session.
  auto planted = engine.execute(shellRequest(
      "setsid nohup bash -c '( while :; do date +%s%N >> /tmp/heartbeat; sleep 0.05; done ) & exit 0' " + marker +
      " >/dev/null 2>&1 </dev/null & until [ -s /tmp/heartbeat ]; do sleep 0.01; done; echo started"));
  REQUIRE(planted.stdoutText == "started\n");
  const auto left = sandboxProcessesAfter(planted.containerId, std::chrono::seconds(5));
  INFO("uid-100 processes still in the container 5 s after the run returned:\n" << joined(left));
  CHECK(left.empty());
  bool reused = false;
  for (int i = 0; i < 10 && !reused; ++i) {
    auto check = engine.execute(shellRequest("echo \"procs=" + countMarked(marker) + "\""));
    reused = check.containerId == planted.containerId;
    INFO("later run " << i + 1 << (reused ? " in run 1's container" : " in another container"));
    CHECK(check.stdoutText == "procs=0\n");
  }
}

TEST_CASE("isolation: a persistent session's next run sees no process of the previous run but keeps its files", "[isolation]") {
  EngineOptions options;
  options.mode = isol8::ExecutionMode::persistent;
  DockerIsol8 engine(options);
  const std::string marker = randomMarker("session-loop");
  auto first = engine.execute(shellRequest(
      "echo kept > /sandbox/keep.txt; bash -c 'touch /tmp/up; while :; do sleep 0.05; done' " + marker +
      " >/dev/null 2>&1 </dev/null & until [ -e /tmp/up ]; do sleep 0.01; done; echo started"));
  REQUIRE(first.stdoutText == "started\n");
  auto second = shellRequest("echo \"setup=$(cat /sandbox/setup-saw) code=" + countMarked(marker) +
                             " kept=$(cat /sandbox/keep.txt)\"");
  second.setupScript = "echo " + countMarked(marker) + " > /sandbox/setup-saw";
  auto r = engine.execute(second);
  INFO(r.stderrText);
  CHECK(r.containerId == first.containerId);
  CHECK(r.stdoutText == "setup=0 code=0 kept=kept\n");
}

// ---- 6: the egress relay ------------------------------------------------------------------

TEST_CASE("isolation: a run cannot starve the egress relay of later runs", "[isolation][egress]") {
  HelloServer server;
  EngineOptions options;
  options.network = isol8::NetworkMode::filtered;
  options.networkFilter.whitelist = {"^localhost$"};
  options.networkFilter.allowedAddresses = {"127.0.0.1/32", "::1/128"};
  options.pidsLimit = 32;
  DockerIsol8 engine(options);
  // Every run in the python image, so the attack's container is one later runs may get; the
  // fetch goes through the proxy (HTTP_PROXY) with urllib.
  const auto fetch = codeRequest("python",
                                 "import urllib.request\n"
                                 "try: print(urllib.request.urlopen('http://localhost:" + std::to_string(server.port) +
                                     "/hello.txt', timeout=5).status)\n"
                                 "except Exception as e: print('failed:', e)\n");
  auto fetchRun = [&] { return engine.execute(fetch); };
  REQUIRE(fetchRun().stdoutText == "200\n");  // control: the relay works
  // More connections to the relay than the pids limit allows processes (each one is a forked
  // socat while it lasts), held for a moment, then closed; the run waits (up to 10 s) until at
  // most one process of the relay's user is left, so the container can be cleaned and reused.
  auto attack = engine.execute(codeRequest("python",
                                           "import os, socket, time\n"
                                           "held = []\n"
                                           "for i in range(40):\n"
                                           "    try: held.append(socket.create_connection(('127.0.0.1', 8118), timeout=2))\n"
                                           "    except OSError: break\n"
                                           "time.sleep(1)\n"
                                           "for s in held: s.close()\n"
                                           "def relay():\n"
                                           "    n = 0\n"
                                           "    for p in filter(str.isdigit, os.listdir('/proc')):\n"
                                           "        try: n += os.stat('/proc/' + p).st_uid == 65534\n"
                                           "        except OSError: pass\n"
                                           "    return n\n"
                                           "start = time.time()\n"
                                           "while relay() > 1 and time.time() - start < 10: time.sleep(0.05)\n"
                                           "print('held', len(held), 'relay processes left', relay())\n"));
  INFO(attack.stdoutText << attack.stderrText);
  bool reused = false;
  for (int i = 0; i < 6 && !reused; ++i) {
    auto r = fetchRun();
    reused = r.containerId == attack.containerId;
    INFO("later run " << i + 1 << (reused ? " in the attacked container" : " in another container"));
    CHECK(r.stdoutText == "200\n");
  }
}

// ---- 7: timeouts --------------------------------------------------------------------------

TEST_CASE("isolation: timeoutMs is one deadline for setup and code together", "[isolation][timeout]") {
  DockerIsol8 engine;
  auto request = shellRequest("sleep 2; echo finished");
  request.setupScript = "sleep 2";
  request.timeoutMs = 3000;
  const auto started = Clock::now();
  bool timedOut = false;
  std::string stdoutText;
  try {
    auto r = engine.execute(request);
    timedOut = r.timedOut || r.exitCode == 137;
    stdoutText = r.stdoutText;
  } catch (const isol8::Error& e) {
    // The deadline may also fall in the setup step (reported as a setup timeout).
    INFO(e.what());
    timedOut = std::string(e.what()).find("timed out") != std::string::npos;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  INFO("took " << took.count() << " ms; stdout: " << stdoutText);
  CHECK(timedOut);
  CHECK(stdoutText.find("finished") == std::string::npos);
  CHECK(took < std::chrono::seconds(6));
}

TEST_CASE("isolation: a timed-out run of a persistent session leaves nothing running", "[isolation][timeout]") {
  EngineOptions options;
  options.mode = isol8::ExecutionMode::persistent;
  DockerIsol8 engine(options);
  const std::string marker = randomMarker("spinner");
  auto request = shellRequest("setsid bash -c 'while :; do :; done' " + marker + " >/dev/null 2>&1 </dev/null & "
                              "bash -c 'while :; do :; done' " + marker + " & sleep 60");
  request.timeoutMs = 1500;
  auto r = engine.execute(request);
  CHECK(r.timedOut);
  const auto left = sandboxProcessesAfter(r.containerId, std::chrono::seconds(5));
  INFO("uid-100 processes left after the timed-out run:\n" << joined(left));
  CHECK(left.empty());
  auto next = engine.execute(shellRequest("echo \"procs=" + countMarked(marker) + "\""));
  CHECK(next.containerId == r.containerId);
  CHECK(next.stdoutText == "procs=0\n");
}

// ---- 8: the engine process dies -------------------------------------------------------------

TEST_CASE("isolation: killing the isol8 CLI mid-run stops the sandbox code", "[isolation]") {
  const std::string marker = randomMarker("orphaned-run");
  BackgroundProcess cli({ISOL8_CLI_PATH, "run", "-r", "bash", "--timeout", "4000", "--cmd",
                         "while :; do date +%s%N >> /tmp/heartbeat; sleep 0.05; done # " + marker});
  // Its container: a bash container running the marked command.
  RemoveAtEnd cleanup;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (cleanup.id.empty() && Clock::now() < deadline) {
    for (const auto& id : containersWithLabel("isol8.runtime=bash"))
      if (joined(sandboxProcesses(id)).find(marker) != std::string::npos) cleanup.id = id;
    if (cleanup.id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling for the run
  }
  INFO(cli.output());
  REQUIRE_FALSE(cleanup.id.empty());
  REQUIRE(kill(cli.pid(), SIGKILL) == 0);
  const auto left = sandboxProcessesAfter(cleanup.id, std::chrono::seconds(8));
  INFO("uid-100 processes 8 s after the CLI was killed:\n" << joined(left));
  CHECK(left.empty());
}

// ---- 9: PID 1 (the supervisor on the fixed engine, tini before) ------------------------------

TEST_CASE("isolation: the sandbox user cannot kill or stop PID 1", "[isolation][supervisor]") {
  EngineOptions options;
  options.poolSize = {0, 1};
  DockerIsol8 engine(options);
  auto r = engine.execute(shellRequest("kill -9 1; echo \"kill=$?\"; kill -STOP 1; echo \"stop=$?\""));
  CHECK(r.stdoutText == "kill=1\nstop=1\n");
  auto next = engine.execute(shellRequest("echo works"));
  INFO((next.containerId == r.containerId ? "same container" : "another container"));
  CHECK(next.stdoutText == "works\n");
  CHECK(next.exitCode == 0);
}

TEST_CASE("isolation: kill -9 -1 kills only the run's own processes and the run still gets a result", "[isolation][supervisor]") {
  EngineOptions options;
  options.poolSize = {0, 1};
  DockerIsol8 engine(options);
  auto r = engine.execute(shellRequest("sleep 300 & kill -9 -1; echo \"still here, kill=$?\""));
  CHECK(r.stdoutText == "still here, kill=0\n");
  CHECK(r.exitCode == 0);
  CHECK_FALSE(r.timedOut);
  auto next = engine.execute(shellRequest("echo works"));
  CHECK(next.stdoutText == "works\n");
}

TEST_CASE("isolation: PID 1 cannot be traced even without seccomp", "[isolation][supervisor]") {
  EngineOptions options;
  options.security.seccomp = isol8::SeccompMode::unconfined;
  DockerIsol8 engine(options);
  auto r = engine.execute(codeRequest("python",
                                      "import ctypes\n"
                                      "libc = ctypes.CDLL(None, use_errno=True)\n"
                                      "libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]\n"
                                      "print('attach', libc.ptrace(16, 1, None, None))\n"
                                      "print('seize', libc.ptrace(0x4206, 1, None, None))\n"));
  INFO(r.stderrText);
  CHECK(r.stdoutText == "attach -1\nseize -1\n");
}

TEST_CASE("isolation: PID 1's stdio and memory and environment cannot be opened", "[isolation][supervisor]") {
  DockerIsol8 engine;
  auto r = engine.execute(codeRequest("python",
                                      "for path, mode in [('/proc/1/fd/0', 'rb'), ('/proc/1/fd/0', 'wb'), ('/proc/1/fd/1', 'rb'),\n"
                                      "                   ('/proc/1/fd/1', 'wb'), ('/proc/1/fd/2', 'wb'), ('/proc/1/mem', 'rb'),\n"
                                      "                   ('/proc/1/environ', 'rb')]:\n"
                                      "    try:\n"
                                      "        open(path, mode, buffering=0).close()\n"
                                      "        print(path, mode, 'OPENED')\n"
                                      "    except OSError:\n"
                                      "        pass\n"
                                      "print('done')\n"));
  INFO(r.stderrText);
  CHECK(r.stdoutText == "done\n");
}

TEST_CASE("isolation: the supervisor binary cannot be written or replaced", "[isolation][supervisor]") {
  DockerIsol8 engine;
  // Absent before the supervisor exists (today's engine); then the check is about writability.
  auto r = engine.execute(shellRequest(
      "f=/opt/isol8/supervisor; if [ -e $f ]; then "
      "(echo x >> $f) 2>/dev/null && echo appended; "
      "(: > $f) 2>/dev/null && echo truncated; "
      "cp /bin/true $f 2>/dev/null && echo copied; "
      "cp /bin/true /sandbox/s && mv -f /sandbox/s $f 2>/dev/null && echo moved; "
      "rm -f $f 2>/dev/null; [ -e $f ] || echo removed; "
      "touch /opt/isol8/other 2>/dev/null && echo created-beside; "
      "echo checked; else echo absent; fi"));
  INFO(r.stderrText);
  CHECK((r.stdoutText == "checked\n" || r.stdoutText == "absent\n"));
}
