// Warm pool versus cold containers: the latency of one buffered execute() as a host program
// sees it, for python and bash.
//   cold:          a fresh engine with poolSize {0,0} per run: the container is created,
//                  started and removed for that run alone.
//   fast / secure: one engine, poolSize {1,1}, started with prewarm, one untimed warm-up run.
//                  "idle" leaves a gap between runs (the pool's background work finishes, as
//                  between real requests); "back-to-back" sends the next run at once.
// Only execute() is timed. usage: isol8_bench_warm_vs_cold [runs=20] [gap-ms=500]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <isol8/isol8.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double median, p90, min;
};

Stats summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1) + 0.5)]; };
  return {at(0.5), at(0.9), ms.front()};
}

isol8::ExecutionRequest request(const std::string& runtime) {
  isol8::ExecutionRequest req;
  req.runtime = runtime;
  req.code = runtime == "python" ? "print('hi')" : "echo hi";
  return req;
}

double timedRun(isol8::Engine& engine, const std::string& runtime) {
  const auto start = Clock::now();
  auto result = engine.execute(request(runtime));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (result.exitCode != 0 || result.stdoutText != "hi\n") {
    std::fprintf(stderr, "unexpected result (exit %d): %s%s\n", result.exitCode, result.stdoutText.c_str(),
                 result.stderrText.c_str());
    std::exit(1);
  }
  return ms;
}

std::vector<double> cold(const std::string& runtime, int runs, std::chrono::milliseconds gap) {
  isol8::EngineOptions options;
  options.poolSize = {0, 0};
  { isol8::DockerIsol8 warmUp(options); timedRun(warmUp, runtime); }  // image caches, seccomp file
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    isol8::DockerIsol8 engine(options);
    ms.push_back(timedRun(engine, runtime));
    engine.stop();
    std::this_thread::sleep_for(gap);
  }
  return ms;
}

std::vector<double> warm(const std::string& runtime, isol8::PoolStrategy strategy, int runs,
                         std::chrono::milliseconds gap) {
  isol8::EngineOptions options;
  options.poolStrategy = strategy;
  options.poolSize = {1, 1};
  isol8::DockerIsol8 engine(options);
  engine.start({.prewarm = true, .runtimes = {runtime}});
  timedRun(engine, runtime);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::this_thread::sleep_for(gap);
    ms.push_back(timedRun(engine, runtime));
  }
  engine.stop();
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  const auto gap = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) : 500);
  // environment.md, median ms on this kind of machine: Engine API exec in a warm container,
  // and a cold `docker run --rm --network none`.
  struct Floor { const char* exec; const char* run; };
  const auto floorOf = [](const std::string& rt) {
    return rt == "python" ? Floor{"53-58", "226-302"} : Floor{"30-42", "236"};
  };
  try {
    fmt::print("{} runs per row, {} ms idle gap; ms of one execute()\n\n", runs, gap.count());
    fmt::print("{:<7} {:<21} {:>8} {:>8} {:>8} {:>9}   {}\n", "runtime", "variant", "median", "p90", "min",
               "speed-up", "floor (environment.md)");
    for (const std::string runtime : {"python", "bash"}) {
      const auto f = floorOf(runtime);
      const Stats c = summarize(cold(runtime, runs, gap));
      auto row = [&](const char* variant, const Stats& s, const std::string& floor) {
        fmt::print("{:<7} {:<21} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f}x   {}\n", runtime, variant, s.median, s.p90,
                   s.min, c.median / s.median, floor);
        std::fflush(stdout);
      };
      row("cold {0,0}", c, fmt::format("docker run --rm: {}", f.run));
      using isol8::PoolStrategy;
      const auto none = std::chrono::milliseconds(0);
      row("fast, idle", summarize(warm(runtime, PoolStrategy::fast, runs, gap)), fmt::format("API exec: {}", f.exec));
      row("fast, back-to-back", summarize(warm(runtime, PoolStrategy::fast, runs, none)), "");
      row("secure, idle", summarize(warm(runtime, PoolStrategy::secure, runs, gap)), "");
      row("secure, back-to-back", summarize(warm(runtime, PoolStrategy::secure, runs, none)), "");
    }
  } catch (const isol8::Error& e) {
    std::fprintf(stderr, "isol8: %s\n", e.what());
    return 1;
  }
  return 0;
}
