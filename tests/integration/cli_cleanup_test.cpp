// The CLI leaves no container behind: after success, failure, timeout, and Ctrl-C. Runs alone
// (RUN_SERIAL) because it counts every isol8 container on the engine.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::test::containersWithLabel;
using isol8::test::runCli;

extern char** environ;

TEST_CASE("the CLI removes its container after success, failure and timeout", "[cli][cleanup]") {
  REQUIRE(containersWithLabel("isol8.managed=true").empty());
  CHECK(runCli({"run", "-e", "print(1)"}).exitCode == 0);
  CHECK(containersWithLabel("isol8.managed=true").empty());
  CHECK(runCli({"run", "-e", "raise SystemExit(5)"}).exitCode == 5);
  CHECK(containersWithLabel("isol8.managed=true").empty());
  CHECK(runCli({"run", "--timeout", "500", "--cmd", "sleep 20"}).exitCode == 137);
  CHECK(containersWithLabel("isol8.managed=true").empty());
}

TEST_CASE("Ctrl-C removes the run's container and exits 130", "[cli][cleanup]") {
  REQUIRE(containersWithLabel("isol8.managed=true").empty());
  std::vector<std::string> argv{ISOL8_CLI_PATH, "run", "--cmd", "sleep 60"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) == 0);
  // Wait (bounded) until the run's container exists, so the signal arrives mid-run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (containersWithLabel("isol8.managed=true").empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  REQUIRE_FALSE(containersWithLabel("isol8.managed=true").empty());
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(containersWithLabel("isol8.managed=true").empty());
}
