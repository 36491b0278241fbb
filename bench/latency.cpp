// Latency of one `execute` per runtime, next to the floors measured in the same run.
//
// Floors (per runtime, the hello command of the runtime, exactly the argv the engine runs):
//   fork floor:  a container of isol8:<runtime> (the engine's hardened spec: read-only root,
//                tmpfs /sandbox and /tmp, seccomp, no network, uid 100) whose main process is
//                a bash loop reading command lines on its attached stdin; one round trip =
//                write the line, fork+run it, read its output and a "done" line back over the
//                attach connection. What an agent already running in a warm container costs.
//   API exec:    POST /containers/{id}/exec + POST /exec/{id}/start + read to EOF +
//                GET /exec/{id}/json on that running container (DockerClient, no keep-alive).
//   docker run:  `docker run --rm --network none isol8:<runtime> <argv>` through the CLI.
//   deno also gets "fork floor, fresh DENO_DIR": the same loop with a new empty DENO_DIR per
//   round trip, which is what a run in a cleaned pooled container finds (the pool's hygiene
//   empties /sandbox, where DENO_DIR lives). Informational.
//   paired fork floor: the warm idle rows (fast and secure) run one fork-floor round trip, with
//   the same gap, before each run. The targets compare a row with its paired floor: the
//   machine's speed drifts by more than the margins between series taken minutes apart, and a
//   floor taken back-to-back is faster than one taken after an idle gap, as the rows are.
//
// Rows (per runtime; --remote runs the same rows through an isol8-server with RemoteIsol8,
// whose pool the server's config decides: --pool names it):
//   fast idle:         poolStrategy fast, poolSize {1,1}, prewarmed, warm-up runs, then runs
//                      separated by --fast-gap-ms (the background clean finishes in between);
//                      then --secure-runs more separated by --gap-ms, secure's gap.
//   fast back-to-back: the next run as soon as the previous one returned.
//   secure idle:       poolStrategy secure {1,1}, --gap-ms between runs so the background
//                      replacement of the used container is ready (the pool is not drained).
//   secure b2b:        back-to-back: the sustained rate of single-use containers.
//   cold:              poolSize {0,0}: a container created, started and removed per run.
// Only execute() is timed (blocking call from this thread). A run fails if it throws, exits
// non-zero or does not print exactly "hello\n"; percentiles are nearest-rank over the
// successful runs (below 100 runs, p99 is the slowest run).
//
// usage: isol8_bench_latency [options]
//   --runtimes LIST      python,node,bun,deno,bash
//   --runs N             fast idle runs (40); --b2b-runs N back-to-back runs (20)
//   --secure-runs N      secure idle runs (20); --gap-ms MS secure idle gap (400)
//   --fast-gap-ms MS     fast idle gap (50); --cold-runs N (4); --warmup N (2)
//   --floor-runs N       fork-floor round trips (40); --exec-runs N (15); --docker-runs N (5)
//   --floors-out FILE    write the floors (runtime fork exec run forkFresh, ms) for --floors
//   --no-floors --floors FILE   take the floors from a file instead of measuring them
//   --remote URL --key KEY --pool fast|secure|cold   rows through isol8-server
//   --rows-out FILE      append the rows' samples to FILE
//   --report --rows FILE --floors FILE   print the rows of FILE (every path) and the targets
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <isol8/isol8.hpp>

#include "docker/docker_client.hpp"
#include "docker/stream_demuxer.hpp"
#include "engine/container_spec.hpp"
#include "engine/runtimes.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using isol8::detail::DockerClient;

constexpr const char* kExpected = "hello\n";
constexpr const char* kDone = "__isol8_bench_done__";
constexpr const char* kDenoFile = "/sandbox/main.mts";

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string codeOf(const std::string& runtime) {
  if (runtime == "python") return "print('hello')";
  if (runtime == "bash") return "echo hello";
  return "console.log('hello')";  // node, bun, deno
}

// The argv the engine runs for the hello code (deno: from a file, like the engine).
std::vector<std::string> argvOf(const std::string& runtime) {
  const auto& rt = isol8::detail::runtimeByName(runtime);
  return rt.runsInline ? rt.inlineCommand(codeOf(runtime)) : rt.fileCommand(kDenoFile);
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shellLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + shellQuote(a);
  return line;
}

// ---- statistics ------------------------------------------------------------------------

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct Series {
  std::vector<double> ms;  // successful runs
  int failures = 0;
  std::string firstFailure;
  double wallSeconds = 0;  // whole series, gaps excluded
  double p(double q) const { return percentile(ms, q); }
  void fail(const std::string& why) {
    ++failures;
    if (firstFailure.empty()) firstFailure = why;
  }
};

std::string num(double v, int decimals = 1) { return std::isnan(v) ? "–" : fmt::format("{:.{}f}", v, decimals); }

// ---- floors ----------------------------------------------------------------------------

struct Floors {
  double fork = NAN, exec = NAN, run = NAN, forkFresh = NAN;
  double forkP90 = NAN, execP90 = NAN, runP90 = NAN;
  int failures = 0;
};

// Reads the attach/exec stream into `out` until stdout ends with `doneLine` (empty: to EOF).
asio::awaitable<void> readUntil(isol8::detail::ExecConnection& conn, isol8::detail::StreamDemuxer& demux,
                                const std::string& out, std::string doneLine) {
  std::vector<char> buf(8192);
  while (doneLine.empty() || !out.ends_with(doneLine)) {
    const auto n = co_await conn.readSome(buf.data(), buf.size());
    if (n == 0) break;
    demux.feed(std::string_view(buf.data(), n));
  }
}

struct FloorArgs {
  int forkRuns = 40, execRuns = 15, dockerRuns = 5;
};

// The fork floor's container: isol8:<runtime> with the engine's hardening, whose main process
// is a bash loop running each line it reads on its attached stdin as the sandbox user. Blocking
// calls on an io_context of its own, so it can stay up while an engine runs next to it.
class ForkLoop {
 public:
  explicit ForkLoop(const std::string& runtime) {
    isol8::EngineOptions options;  // the engine's defaults: limits, seccomp strict
    isol8::detail::ContainerSpecInput input;
    input.image = "isol8:" + runtime;
    input.runtime = runtime;
    input.engineId = "bench";
    input.options = &options;
    input.seccompProfileJson = isol8::detail::loadSeccompProfile(options.security);
    input.supervisorDir = "/nonexistent";
    json::object spec = isol8::detail::makeContainerSpec(input);
    // Same hardening, but the loop instead of the supervisor, as the sandbox user directly.
    const std::string loop = fmt::format("while IFS= read -r l; do eval \"$l\" 2>&1; echo {}; done", kDone);
    spec["Entrypoint"] = json::array{"bash", "-c", loop};
    spec["Cmd"] = json::array{};
    spec["User"] = "100:101";
    spec["Labels"] = json::object{{"isol8.bench", "floor"}};
    auto& host = spec["HostConfig"].as_object();
    host.erase("Binds");
    host.erase("CapAdd");
    host["AutoRemove"] = false;
    id_ = run(docker_.createContainer(spec));
    try {
      conn_ = run(docker_.attachContainer(id_));
      run(docker_.startContainer(id_));
      if (runtime == "deno") roundTrip(fmt::format("printf '%s\\n' {} > {}", shellQuote(codeOf(runtime)), kDenoFile));
      hello_ = shellLine(argvOf(runtime));
      for (int i = 0; i < 3; ++i) roundTrip(hello_);  // page cache, first-run caches
    } catch (...) {
      remove();
      throw;
    }
  }
  ~ForkLoop() { remove(); }
  ForkLoop(const ForkLoop&) = delete;
  ForkLoop& operator=(const ForkLoop&) = delete;

  // Runs `line` in the loop; returns what it printed.
  std::string roundTrip(const std::string& line) {
    return run([](ForkLoop& self, std::string line) -> asio::awaitable<std::string> {
      const std::string doneLine = std::string(kDone) + "\n";
      std::string out;
      isol8::detail::StreamDemuxer demux([&](isol8::detail::DockerStream s, std::string_view d) {
        if (s == isol8::detail::DockerStream::stdout_data || s == isol8::detail::DockerStream::stderr_data) out.append(d);
      });
      co_await self.conn_->write(line + "\n");
      co_await readUntil(*self.conn_, demux, out, doneLine);
      if (!out.ends_with(doneLine)) throw std::runtime_error("the floor container's loop ended: " + out);
      co_return out.substr(0, out.size() - doneLine.size());
    }(*this, line));
  }

  // One timed round trip of `prefix` + the runtime's hello command into `s`.
  void timeHello(Series& s, const std::string& prefix = {}) {
    const auto t = Clock::now();
    const std::string got = roundTrip(prefix + hello_);
    const double ms = msSince(t);
    if (got == kExpected) s.ms.push_back(ms);
    else s.fail("output " + json::serialize(json::value(got)));
  }

  template <typename T>
  T run(asio::awaitable<T> operation) {
    auto future = asio::co_spawn(io_, std::move(operation), asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }
  DockerClient& docker() { return docker_; }
  const std::string& id() const { return id_; }

 private:
  void remove() {
    if (id_.empty()) return;
    if (conn_) conn_->closeStdin();
    try {
      run(docker_.removeContainer(id_));
    } catch (const std::exception& e) {
      fmt::print(stderr, "removing the floor container {}: {}\n", id_.substr(0, 12), e.what());
    }
    id_.clear();
  }

  asio::io_context io_;
  DockerClient docker_;
  std::string id_, hello_;
  std::unique_ptr<isol8::detail::ExecConnection> conn_;
};

Floors measureFloors(const std::string& runtime, const FloorArgs& a) {
  Floors f;
  ForkLoop loop(runtime);
  Series fork;
  for (int i = 0; i < a.forkRuns; ++i) loop.timeHello(fork);
  f.fork = fork.p(0.5);
  f.forkP90 = fork.p(0.9);
  f.failures += fork.failures;
  if (runtime == "deno") {
    // A new, empty DENO_DIR per round trip (eval expands the counter).
    Series fresh;
    for (int i = 0; i < a.forkRuns / 2; ++i) loop.timeHello(fresh, "n=$((n+1)); DENO_DIR=/sandbox/.deno-$n ");
    f.forkFresh = fresh.p(0.5);
    f.failures += fresh.failures;
  }

  // Raw Engine API exec of the same argv in the same running container.
  json::array env;
  for (const auto& e : isol8::detail::baseEnvironment()) env.emplace_back(e);
  json::array cmd;
  for (const auto& arg : argvOf(runtime)) cmd.emplace_back(arg);
  const json::object execSpec{{"User", "100:101"}, {"Env", env},         {"Cmd", cmd},
                              {"WorkingDir", "/sandbox"}, {"AttachStdout", true}, {"AttachStderr", true}};
  Series exec;
  for (int i = -2; i < a.execRuns; ++i) {  // two warm-up execs
    const auto t = Clock::now();
    const auto [exitCode, execOut] =
        loop.run([](DockerClient& docker, std::string id, json::object spec) -> asio::awaitable<std::pair<int, std::string>> {
          const std::string execId = co_await docker.createExec(id, spec);
          auto execConn = co_await docker.startExec(execId);
          std::string out;
          isol8::detail::StreamDemuxer execDemux([&](isol8::detail::DockerStream s, std::string_view d) {
            if (s == isol8::detail::DockerStream::stdout_data) out.append(d);
          });
          co_await readUntil(*execConn, execDemux, out, std::string());
          const auto state = co_await docker.inspectExec(execId);
          co_return std::pair<int, std::string>{state.exitCode.value_or(-1), out};
        }(loop.docker(), loop.id(), execSpec));
    const double ms = msSince(t);
    if (i < 0) continue;
    if (exitCode == 0 && execOut == kExpected) exec.ms.push_back(ms);
    else exec.fail("exec output " + json::serialize(json::value(execOut)));
  }
  f.exec = exec.p(0.5);
  f.execP90 = exec.p(0.9);
  f.failures += exec.failures;
  return f;
}

// `docker run --rm --network none` through the CLI; stdout must be hello.
Series dockerRunSeries(const std::string& runtime, int runs) {
  std::vector<std::string> argv = argvOf(runtime);
  if (runtime == "deno")  // the file first, in the container's own (writable) /tmp
    argv = {"bash", "-c",
            fmt::format("printf '%s\\n' {} > /tmp/main.mts && {}", shellQuote(codeOf(runtime)),
                        shellLine(isol8::detail::runtimeByName("deno").fileCommand("/tmp/main.mts")))};
  const std::string command =
      fmt::format("docker run --rm --network none {} {} 2>&1", shellQuote("isol8:" + runtime), shellLine(argv));
  Series s;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    FILE* p = popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed");
    std::string out;
    std::array<char, 4096> buf{};
    while (const auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    const double ms = msSince(t);
    if (status == 0 && out == kExpected) s.ms.push_back(ms);
    else s.fail("docker run: " + out);
  }
  return s;
}

// ---- engine rows -----------------------------------------------------------------------

// The "pool" of the fork floor's round trips interleaved with the fast idle runs.
constexpr const char* kPairedPool = "fork floor (paired)";
std::string pairedMode(const std::string& pool) { return "with " + pool + ", idle"; }

struct Row {
  std::string runtime, path, pool, mode;  // path: library | server; pool: fast | secure | cold | kPairedPool
  Series s;
  double gapMs = 0;
};

isol8::ExecutionRequest helloRequest(const std::string& runtime) {
  isol8::ExecutionRequest r;
  r.runtime = runtime;
  r.code = codeOf(runtime);
  return r;
}

// One timed execute() of the runtime's hello into `s`.
void runOnce(isol8::Engine& engine, const std::string& runtime, Series& s) {
  const auto t = Clock::now();
  try {
    const auto result = engine.execute(helloRequest(runtime));
    const double ms = msSince(t);
    s.wallSeconds += ms / 1000;
    if (result.exitCode == 0 && result.stdoutText == kExpected) s.ms.push_back(ms);
    else
      s.fail(fmt::format("exit {}, stdout {}, stderr {}", result.exitCode, json::serialize(json::value(result.stdoutText)),
                         json::serialize(json::value(result.stderrText.substr(0, 300)))));
  } catch (const std::exception& e) {
    s.wallSeconds += msSince(t) / 1000;
    s.fail(e.what());
  }
}

Series runSeries(isol8::Engine& engine, const std::string& runtime, int runs, std::chrono::milliseconds gap) {
  Series s;
  for (int i = 0; i < runs; ++i) {
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
    runOnce(engine, runtime, s);
  }
  return s;
}

struct RowArgs {
  int runs = 40, b2bRuns = 20, secureRuns = 20, coldRuns = 4, warmup = 2;
  int gapMs = 400, fastGapMs = 50, coldGapMs = 300;
};

using EngineFactory = std::function<std::unique_ptr<isol8::Engine>(const std::string& pool)>;

// The rows of one pool kind ("fast", "secure", "cold") for one runtime.
std::vector<Row> poolRows(const EngineFactory& make, const std::string& path, const std::string& pool,
                          const std::string& runtime, const RowArgs& a) {
  using std::chrono::milliseconds;
  auto engine = make(pool);
  engine->start({.prewarm = pool != "cold", .runtimes = {runtime}});
  std::vector<Row> rows;
  if (pool == "cold") {
    runSeries(*engine, runtime, 1, milliseconds(0));  // image and seccomp caches
    rows.push_back({runtime, path, pool, "cold", runSeries(*engine, runtime, a.coldRuns, milliseconds(a.coldGapMs)),
                    double(a.coldGapMs)});
  } else {
    const int gap = pool == "fast" ? a.fastGapMs : a.gapMs;
    runSeries(*engine, runtime, a.warmup, milliseconds(gap));
    // The fork floor measured alongside, one round trip before each run with the same gap:
    // the machine's speed drifts by more than the margins between series minutes apart.
    ForkLoop loop(runtime);
    auto idleRows = [&](int runCount, int gapMs) {
      Series runs, floor;
      for (int i = 0; i < runCount; ++i) {
        std::this_thread::sleep_for(milliseconds(gapMs));
        loop.timeHello(floor);
        std::this_thread::sleep_for(milliseconds(gapMs));
        runOnce(*engine, runtime, runs);
      }
      rows.push_back({runtime, path, pool, "warm, idle", std::move(runs), double(gapMs)});
      rows.push_back({runtime, path, kPairedPool, pairedMode(pool), std::move(floor), double(gapMs)});
    };
    idleRows(pool == "fast" ? a.runs : a.secureRuns, gap);
    // Fast at secure's gap too: a longer idle gap costs every path more wake-ups, so secure is
    // compared with fast at the same gap.
    if (pool == "fast" && a.gapMs != gap) idleRows(a.secureRuns, a.gapMs);
    std::this_thread::sleep_for(milliseconds(a.gapMs));
    rows.push_back({runtime, path, pool, "warm, back-to-back", runSeries(*engine, runtime, a.b2bRuns, milliseconds(0)),
                    0});
  }
  engine->stop();
  for (const auto& r : rows)
    if (!r.s.firstFailure.empty())
      fmt::print(stderr, "[{} {} {} {}] {} failure(s), first: {}\n", r.path, r.pool, r.mode, r.runtime, r.s.failures,
                 r.s.firstFailure);
  return rows;
}

// ---- report ----------------------------------------------------------------------------

void printFloors(const std::vector<std::string>& runtimes, const std::map<std::string, Floors>& floors) {
  fmt::print("\n### Floors (ms, same command, measured in this run)\n\n");
  fmt::print("| runtime | fork floor p50 | p90 | API exec p50 | p90 | `docker run --rm` p50 | p90 | fork, fresh DENO_DIR p50 |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& rt : runtimes) {
    const auto& f = floors.at(rt);
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} |\n", rt, num(f.fork), num(f.forkP90), num(f.exec),
               num(f.execP90), num(f.run, 0), num(f.runP90, 0), num(f.forkFresh));
  }
}

void printRows(const std::vector<Row>& rows, const std::map<std::string, Floors>& floors) {
  fmt::print("\n### execute() latency (ms) and ratios of p50 to the floors\n\n");
  fmt::print(
      "| runtime | path | pool | mode | runs | fail | p50 | p90 | p99 | runs/s | p50 − fork | ×fork | ×API exec | "
      "×docker run |\n");
  fmt::print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    const auto& f = floors.at(r.runtime);
    const double p50 = r.s.p(0.5);
    const std::string rate =
        r.mode == "warm, back-to-back" && r.s.wallSeconds > 0
            ? num(static_cast<double>(r.s.ms.size()) / r.s.wallSeconds, 1)
            : "";
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:+.1f} | {:.2f} | {:.2f} | {:.2f} |\n", r.runtime,
               r.path, r.pool, r.mode + (r.gapMs > 0 ? fmt::format(" ({} ms gap)", r.gapMs) : ""),
               r.s.ms.size() + static_cast<std::size_t>(r.s.failures), r.s.failures, num(p50), num(r.s.p(0.9)),
               num(r.s.p(0.99)), rate, p50 - f.fork, p50 / f.fork, p50 / f.exec, p50 / f.run);
  }
}

void printTargets(const std::vector<Row>& rows, const std::map<std::string, Floors>& floors) {
  // gapMs < 0: any gap (the first such row).
  auto find = [&](const std::string& rt, const std::string& path, const std::string& pool, const std::string& mode,
                  double gapMs) -> const Row* {
    for (const auto& r : rows)
      if (r.runtime == rt && r.path == path && r.pool == pool && r.mode == mode && (gapMs < 0 || r.gapMs == gapMs))
        return &r;
    return nullptr;
  };
  fmt::print("\n### Targets\n\n| target | path | measured (ms) | limit (ms) | margin (ms) | result |\n");
  fmt::print("|---|---|---:|---:|---:|---|\n");
  int failed = 0;
  auto check = [&](const std::string& what, const std::string& path, double measured, double limit) {
    const bool pass = !std::isnan(measured) && measured <= limit;
    failed += pass ? 0 : 1;
    fmt::print("| {} | {} | {} | {} | {:+.1f} | {} |\n", what, path, num(measured), num(limit), measured - limit,
               pass ? "PASS" : "FAIL");
  };
  for (const std::string path : {"library", "server"}) {
    for (const auto& [rt, f] : floors) {
      const Row* fast = find(rt, path, "fast", "warm, idle", -1);  // the first: the fast gap
      if (!fast) continue;
      const double slack = rt == "python" ? 3 : 5;
      const double p50 = fast->s.p(0.5);
      // Against the floor measured alongside when there is one (rows of this version).
      const Row* paired = find(rt, path, kPairedPool, pairedMode("fast"), fast->gapMs);
      const double floor = paired ? paired->s.p(0.5) : f.fork;
      check(fmt::format("{} warm fast p50 ≤ fork floor{} + {:.0f}", rt, paired ? " (paired)" : "", slack), path, p50,
            floor + slack);
      if (rt == "python" || rt == "bash") check(fmt::format("{} warm fast p50 ≤ 0.3 × API exec", rt), path, p50, 0.3 * f.exec);
      if (fast->s.failures) check(fmt::format("{} warm fast: no failures", rt), path, fast->s.failures, 0);
    }
    for (const auto& [rt, f] : floors) {
      const Row* secure = find(rt, path, "secure", "warm, idle", -1);
      if (!secure) continue;
      // Fast at secure's gap when measured (rows of this version), each against the floor
      // measured alongside it; older rows: the plain comparison.
      const Row* fast = find(rt, path, "fast", "warm, idle", secure->gapMs);
      const Row* fastFloor = find(rt, path, kPairedPool, pairedMode("fast"), secure->gapMs);
      const Row* secureFloor = find(rt, path, kPairedPool, pairedMode("secure"), secure->gapMs);
      if (fast && fastFloor && secureFloor) {
        check(fmt::format("{} warm secure p50 (idle) ≤ fast p50 + 2, same gap, each − its paired floor", rt), path,
              secure->s.p(0.5) - secureFloor->s.p(0.5), fast->s.p(0.5) - fastFloor->s.p(0.5) + 2);
      } else if ((fast = find(rt, path, "fast", "warm, idle", -1))) {
        check(fmt::format("{} warm secure p50 (idle) ≤ fast p50 + 2", rt), path, secure->s.p(0.5), fast->s.p(0.5) + 2);
      }
    }
  }
  fmt::print("\n{} target(s) missed in this table.\n", failed);
}

// ---- arguments -------------------------------------------------------------------------

std::vector<std::string> splitList(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

struct Args {
  std::vector<std::string> runtimes{"python", "node", "bun", "deno", "bash"};
  FloorArgs floor;
  RowArgs rows;
  bool measureFloors = true;
  bool report = false;  // only print the rows of --rows (and their targets)
  std::optional<std::string> floorsIn, floorsOut, remote, key, pool, rowsIn, rowsOut;
};

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    auto count = [&]() { return std::max(0, std::stoi(value())); };
    if (arg == "--runtimes") a.runtimes = splitList(value());
    else if (arg == "--runs") a.rows.runs = std::max(1, count());
    else if (arg == "--b2b-runs") a.rows.b2bRuns = std::max(1, count());
    else if (arg == "--secure-runs") a.rows.secureRuns = std::max(1, count());
    else if (arg == "--cold-runs") a.rows.coldRuns = std::max(1, count());
    else if (arg == "--warmup") a.rows.warmup = count();
    else if (arg == "--gap-ms") a.rows.gapMs = count();
    else if (arg == "--fast-gap-ms") a.rows.fastGapMs = count();
    else if (arg == "--floor-runs") a.floor.forkRuns = std::max(2, count());
    else if (arg == "--exec-runs") a.floor.execRuns = std::max(1, count());
    else if (arg == "--docker-runs") a.floor.dockerRuns = std::max(1, count());
    else if (arg == "--floors-out") a.floorsOut = value();
    else if (arg == "--floors") a.floorsIn = value();
    else if (arg == "--no-floors") a.measureFloors = false;
    else if (arg == "--remote") a.remote = value();
    else if (arg == "--key") a.key = value();
    else if (arg == "--pool") a.pool = value();
    else if (arg == "--rows-out") a.rowsOut = value();
    else if (arg == "--rows") a.rowsIn = value();
    else if (arg == "--report") a.report = true;
    else throw std::invalid_argument("unknown argument " + arg);
  }
  if (a.remote && (!a.key || !a.pool)) throw std::invalid_argument("--remote needs --key and --pool fast|secure|cold");
  if (!a.measureFloors && !a.floorsIn) throw std::invalid_argument("--no-floors needs --floors FILE");
  if (a.report && (!a.rowsIn || !a.floorsIn)) throw std::invalid_argument("--report needs --rows FILE --floors FILE");
  if (a.report) a.measureFloors = false;
  return a;
}

void writeFloors(const std::string& path, const std::map<std::string, Floors>& floors) {
  std::ofstream out(path);
  for (const auto& [rt, f] : floors)
    out << rt << ' ' << f.fork << ' ' << f.exec << ' ' << f.run << ' ' << f.forkFresh << ' ' << f.forkP90 << ' '
        << f.execP90 << ' ' << f.runP90 << '\n';
}

std::map<std::string, Floors> readFloors(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path);
  std::map<std::string, Floors> floors;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string rt, v[7];
    if (!(fields >> rt >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6])) continue;
    auto d = [](const std::string& s) { return std::strtod(s.c_str(), nullptr); };  // accepts "nan"
    floors[rt] = {d(v[0]), d(v[1]), d(v[2]), d(v[3]), d(v[4]), d(v[5]), d(v[6]), 0};
  }
  return floors;
}

// Rows go to a file so the last run can print every path's targets together.
void appendRows(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path, std::ios::app);
  for (const auto& r : rows) {
    out << r.runtime << '\t' << r.path << '\t' << r.pool << '\t' << r.mode << '\t' << r.gapMs << '\t' << r.s.failures
        << '\t' << r.s.wallSeconds;
    for (double ms : r.s.ms) out << '\t' << ms;
    out << '\n';
  }
}

std::vector<Row> readRows(const std::string& path) {
  std::ifstream in(path);
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    if (f.size() < 7) continue;
    Row r{f[0], f[1], f[2], f[3], {}, std::stod(f[4])};
    r.s.failures = std::stoi(f[5]);
    r.s.wallSeconds = std::stod(f[6]);
    for (std::size_t i = 7; i < f.size(); ++i) r.s.ms.push_back(std::stod(f[i]));
    rows.push_back(std::move(r));
  }
  return rows;
}

int run(const Args& a) {
  std::map<std::string, Floors> floors;
  if (a.floorsIn) floors = readFloors(*a.floorsIn);
  if (a.measureFloors) {
    for (const auto& rt : a.runtimes) {
      Floors f = measureFloors(rt, a.floor);
      const Series run = dockerRunSeries(rt, a.floor.dockerRuns);
      f.run = run.p(0.5);
      f.runP90 = run.p(0.9);
      f.failures += run.failures;
      if (!run.firstFailure.empty()) fmt::print(stderr, "[floor {}] {}\n", rt, run.firstFailure);
      if (f.failures) fmt::print(stderr, "[floor {}] {} failed round trip(s)\n", rt, f.failures);
      floors[rt] = f;
    }
    if (a.floorsOut) writeFloors(*a.floorsOut, floors);
    printFloors(a.runtimes, floors);
    std::fflush(stdout);
  }
  for (const auto& rt : a.runtimes)
    if (!a.report && !floors.contains(rt)) throw std::invalid_argument("no floors for " + rt);

  if (a.report) {
    std::vector<std::string> order;
    for (const auto& rt : a.runtimes)
      if (floors.contains(rt)) order.push_back(rt);
    printFloors(order, floors);
    const std::vector<Row> all = readRows(*a.rowsIn);
    printRows(all, floors);
    printTargets(all, floors);
    return 0;
  }
  std::vector<Row> rows;
  if (a.remote) {
    const EngineFactory make = [&](const std::string&) -> std::unique_ptr<isol8::Engine> {
      return std::make_unique<isol8::RemoteIsol8>(isol8::RemoteOptions{.host = *a.remote, .apiKey = *a.key});
    };
    for (const auto& rt : a.runtimes)
      for (auto& r : poolRows(make, "server", *a.pool, rt, a.rows)) rows.push_back(std::move(r));
  } else {
    const EngineFactory make = [](const std::string& pool) -> std::unique_ptr<isol8::Engine> {
      isol8::EngineOptions o;
      o.poolStrategy = pool == "secure" ? isol8::PoolStrategy::secure : isol8::PoolStrategy::fast;
      o.poolSize = pool == "cold" ? isol8::PoolSize{0, 0} : isol8::PoolSize{1, 1};
      return std::make_unique<isol8::DockerIsol8>(o);
    };
    for (const auto& rt : a.runtimes)
      for (const std::string pool : {"fast", "secure", "cold"})
        for (auto& r : poolRows(make, "library", pool, rt, a.rows)) rows.push_back(std::move(r));
  }
  if (a.rowsOut) appendRows(*a.rowsOut, rows);
  printRows(rows, floors);
  printTargets(rows, floors);
  int failures = 0;
  for (const auto& r : rows) failures += r.s.failures;
  return failures == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parseArgs(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "isol8_bench_latency: {}\n", e.what());
    return 1;
  }
}
