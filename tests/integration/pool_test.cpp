// The warm pool against the real engine: reuse leaks nothing from one run into the next
// (processes, files in /sandbox and /tmp, environment), whatever the strategy and seccomp
// mode; maxReuse and maxConcurrent hold; prewarm and stop manage the containers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <sstream>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::shellRequest;
using isol8::test::containersWithLabel;

namespace {

// Plants traces in one run, then runs a checker until it lands in that same container (the
// pool hands containers out in turn) and returns the checker's output there; with `secure`
// (single use) the container must never come back, and every checker's output is returned.
std::string traceSeenOnReuse(DockerIsol8& engine, bool singleUse) {
  // Two background processes (one in its own session), files in /sandbox (one hidden, one
  // made unreadable) and /tmp; wait until both processes are up so run 1 really leaves them.
  auto plant = shellRequest(
      "nohup sleep 1000 >/dev/null 2>&1 & "
      "setsid sh -c 'while :; do sleep 1; done' >/dev/null 2>&1 & "
      "until [ \"$(pgrep -u 100 -c -x 'sleep|sh')\" -ge 2 ]; do :; done; "
      "echo secret > /sandbox/secret_data.txt; mkdir -p /sandbox/.hidden/deep; touch /sandbox/.hidden/deep/f; "
      "echo t > /tmp/tmpfile; chmod 000 /sandbox/.hidden; "
      "ls -A /sandbox /tmp | tr '\\n' ' '");
  plant.env["CARRY"] = "over";
  auto planted = engine.execute(plant);
  // The traces exist at the end of run 1 (so the checks below can fail).
  CHECK_THAT(planted.stdoutText, Catch::Contains("secret_data.txt") && Catch::Contains("tmpfile"));
  for (int i = 0; i < 10; ++i) {
    auto check = engine.execute(shellRequest(
        "echo \"procs=$(pgrep -u 100 -c -x 'sleep|sh') files=$(ls -A /sandbox /tmp | tr '\\n' ' ')"
        " env=${CARRY:-not_set}\""));
    if (singleUse) {
      CHECK(check.containerId != planted.containerId);
      if (check.stdoutText != "procs=0 files=/sandbox:  /tmp:  env=not_set\n") return check.stdoutText;
    } else if (check.containerId == planted.containerId) {
      return check.stdoutText;
    }
  }
  if (singleUse) return "procs=0 files=/sandbox:  /tmp:  env=not_set\n";
  FAIL("the pool never reused the container");
  return {};
}

}  // namespace

TEST_CASE("pooled reuse leaks nothing: processes, /sandbox, /tmp, environment", "[pool][hygiene]") {
  auto strategy = GENERATE(isol8::PoolStrategy::fast, isol8::PoolStrategy::secure);
  auto seccomp = GENERATE(isol8::SeccompMode::strict, isol8::SeccompMode::unconfined);
  EngineOptions options;
  options.poolStrategy = strategy;
  options.security.seccomp = seccomp;
  DockerIsol8 engine(options);
  const std::string seen = traceSeenOnReuse(engine, strategy == isol8::PoolStrategy::secure);
  CHECK(seen == "procs=0 files=/sandbox:  /tmp:  env=not_set\n");
}

TEST_CASE("a container is replaced after maxReuse runs", "[pool]") {
  EngineOptions options;
  options.poolSize = {0, 1};  // no spare: the one container is reused while it may be
  options.maxReuse = 2;
  DockerIsol8 engine(options);
  const auto a = engine.execute(shellRequest("true")).containerId;
  const auto b = engine.execute(shellRequest("true")).containerId;
  const auto c = engine.execute(shellRequest("true")).containerId;
  CHECK(a == b);
  CHECK(c != a);
  // The retired container is gone, not just set aside.
  engine.stop();
  CHECK(isol8::test::runProgram({"docker", "inspect", a}).exitCode != 0);
}

TEST_CASE("maxConcurrent bounds how many runs overlap", "[pool][concurrency]") {
  // Each run prints its start and end time (host clock, ns); count the largest overlap.
  auto maxOverlap = [](int maxConcurrent) {
    EngineOptions options;
    options.maxConcurrent = maxConcurrent;
    DockerIsol8 engine(options);
    std::vector<isol8::ExecutionStream> streams;
    for (int i = 0; i < 4; ++i) streams.push_back(engine.executeStream(shellRequest("date +%s%N; sleep 1.5; date +%s%N")));
    std::vector<std::pair<long long, int>> edges;
    for (auto& stream : streams) {
      std::string out;
      for (const auto& e : stream)
        if (e.type == isol8::StreamEvent::Type::stdout_data) out += e.data;
      std::istringstream in(out);
      long long start = 0, end = 0;
      in >> start >> end;
      REQUIRE(end > start);
      edges.push_back({start, +1});
      edges.push_back({end, -1});
    }
    std::sort(edges.begin(), edges.end());
    int now = 0, most = 0;
    for (const auto& [t, d] : edges) most = std::max(most, now += d);
    return most;
  };
  CHECK(maxOverlap(2) <= 2);
  CHECK(maxOverlap(4) >= 3);  // control: without the bound the runs do overlap
}

TEST_CASE("start with prewarm fills the pool and stop removes every container", "[pool]") {
  DockerIsol8 engine;
  const std::string label = "isol8.engine=" + engine.engineId();
  engine.start({true, {"python", "bash"}});
  CHECK(containersWithLabel(label).size() == 2);
  auto r = engine.execute(shellRequest("echo warm"));
  CHECK(r.stdoutText == "warm\n");
  engine.stop();
  CHECK(containersWithLabel(label).empty());
  engine.stop();  // idempotent
}

TEST_CASE("a stop while a prewarming start is under way leaves no container behind", "[pool]") {
  // isol8-server's shutdown met its own prewarm this way: the start resumed after the stop had
  // drained the pool, created a container, and the process exited before starting it.
  DockerIsol8 engine;
  const std::string label = "isol8.engine=" + engine.engineId();
  boost::asio::io_context io;
  bool started = false, stopped = false, startedBeforeStopEnded = false;
  // Spawned in this order, the start reaches the engine first and is waiting on Docker when
  // the stop arrives.
  const isol8::StartOptions prewarm{true, {"python"}};  // named: no braced temporary in a co_await
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    co_await engine.asyncStart(prewarm);
    started = true;
  }, boost::asio::detached);
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    co_await engine.asyncStop();
    stopped = true;
    startedBeforeStopEnded = started;  // (checked below: Catch's macros are not for coroutines)
  }, boost::asio::detached);
  io.run();
  CHECK(started);
  CHECK(stopped);
  CHECK(startedBeforeStopEnded);  // the stop waited for the start
  CHECK(containersWithLabel(label).empty());
}

TEST_CASE("a pooled container that died or cannot be cleaned is replaced, not handed out", "[pool]") {
  // fast: a warm container killed behind the pool's back is noticed when it is taken.
  {
    EngineOptions options;
    options.poolSize = {1, 1};
    DockerIsol8 engine(options);
    engine.start({true, {"bash"}});
    const auto warm = containersWithLabel("isol8.engine=" + engine.engineId());
    REQUIRE(warm.size() == 1);
    isol8::test::runProgram({"docker", "kill", warm[0]});
    auto r = engine.execute(shellRequest("echo alive"));
    CHECK(r.stdoutText == "alive\n");
    CHECK(r.containerId != warm[0]);
  }
  // secure: single use; a used container (here also killed) is never handed out again.
  {
    EngineOptions options;
    options.poolStrategy = isol8::PoolStrategy::secure;
    options.poolSize = {0, 1};  // no fresh spare: the used container is the only candidate
    DockerIsol8 engine(options);
    const auto used = engine.execute(shellRequest("true")).containerId;
    isol8::test::runProgram({"docker", "kill", used});
    auto r = engine.execute(shellRequest("echo alive"));
    CHECK(r.stdoutText == "alive\n");
    CHECK(r.containerId != used);
  }
}
