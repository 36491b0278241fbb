// A bounded load test against a real isol8-server on loopback: thousands of requests at
// concurrency 64 with no error, no container left behind, and the server's memory back near
// where it started. Runs alone (RUN_SERIAL): it counts every isol8 container on the engine.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.hpp"
#include "support.hpp"

using isol8::test::bearer;
using isol8::test::httpRequest;
using isol8::test::ServerLaunch;
using isol8::test::ServerProcess;

namespace {

// The server's resident memory, KiB (VmRSS of /proc/<pid>/status).
long residentKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

struct LoadResult {
  int ok = 0;
  std::vector<std::string> failures;  // the first few, for the report
  int failed = 0;
};

// `total` buffered python runs over `concurrency` clients, one connection per request.
LoadResult load(const ServerProcess& server, int total, int concurrency) {
  std::atomic<int> next{0}, ok{0}, failed{0};
  std::mutex failuresMutex;
  LoadResult result;
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c) {
    clients.emplace_back([&] {
      while (next.fetch_add(1) < total) {
        std::string problem;
        try {
          auto r = httpRequest("POST", server.url() + "/execute",
                               R"j({"request":{"runtime":"python","code":"print('hello')"}})j",
                               {bearer(server.masterKey())});
          if (r.status != 200) problem = "status " + std::to_string(r.status) + ": " + r.body;
          else if (r.body.find(R"j("stdout":"hello\n")j") == std::string::npos) problem = "body: " + r.body;
        } catch (const std::exception& e) {
          problem = e.what();
        }
        if (problem.empty()) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(failuresMutex);
          if (result.failures.size() < 5) result.failures.push_back(problem);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  result.ok = ok;
  result.failed = failed;
  return result;
}

}  // namespace

TEST_CASE("load: 2000 executes at concurrency 64, no error, no container left, memory back near its start",
          "[load][server]") {
  const auto before = isol8::test::containersWithLabel("isol8.managed");
  ServerLaunch launch;
  launch.configJson = R"({"poolStrategy": "fast", "poolSize": {"clean": 8, "dirty": 8}, "maxConcurrent": 64,
                          "server": {"prewarm": ["python"]}})";
  ServerProcess server(launch);
  // Warm up: pools filled, allocator arenas grown; memory is measured from here.
  auto warm = load(server, 256, 64);
  INFO("warm-up failures: " << warm.failed);
  REQUIRE(warm.failed == 0);
  const long startKiB = residentKiB(server.pid());

  auto run = load(server, 2000, 64);
  for (const auto& f : run.failures) UNSCOPED_INFO("failure: " << f);
  CHECK(run.failed == 0);
  CHECK(run.ok == 2000);
  const long endKiB = residentKiB(server.pid());
  // Printed for the record (ctest -V): the figures, not only the verdict.
  std::printf("load: %d ok, %d failed; server RSS after warm-up %ld KiB, after 2000 runs %ld KiB\n", run.ok,
              run.failed, startKiB, endKiB);
  INFO("server RSS after warm-up " << startKiB << " KiB, after 2000 runs " << endKiB << " KiB");
  CHECK(endKiB < startKiB + 32 * 1024);

  CHECK(server.stop() == 0);
  CHECK(isol8::test::containersWithLabel("isol8.managed").size() <= before.size());
}
