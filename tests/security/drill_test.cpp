// Fault drills against a real Docker engine of the test's own: a private dockerd on its own
// socket, data root and exec root (no bridge, no iptables), so the shared engine is untouched.
// The drill stops it under a running engine and starts it again.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::test::runProgram;
using isol8::test::shellRequest;

namespace {

namespace fs = std::filesystem;

class PrivateDockerd {
 public:
  PrivateDockerd() {
    char pattern[] = "/tmp/isol8-drill-XXXXXX";  // short: a unix socket path has 108 bytes
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    start();
    // The runtime image, copied from the shared engine.
    const auto loaded = runProgram({"sh", "-c", "docker save isol8:bash | docker -H " + host() + " load"});
    INFO(loaded.err);
    REQUIRE(loaded.exitCode == 0);
  }
  ~PrivateDockerd() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string host() const { return "unix://" + dir_ + "/docker.sock"; }

  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = dir_ + "/dockerd.log";
      freopen(log.c_str(), "a", stdout);
      freopen(log.c_str(), "a", stderr);
      // In a network namespace of its own: with --bridge none, dockerd deletes the host's
      // docker0 at start, which would break the shared engine's default network.
      execlp("unshare", "unshare", "--net", "--", "dockerd", "--host", host().c_str(), "--data-root", (dir_ + "/root").c_str(), "--exec-root",
             (dir_ + "/exec").c_str(), "--pidfile", (dir_ + "/docker.pid").c_str(), "--bridge", "none",
             "--iptables=false", "--ip6tables=false", "--ip-masq=false", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Up when it answers (bounded: 60 s).
    for (int i = 0; i < 600; ++i) {
      if (runProgram({"docker", "-H", host(), "version"}).exitCode == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the private dockerd did not start");
  }

  // Graceful stop (SIGTERM: its containers are stopped), waited for; SIGKILL after 60 s.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::vector<std::string> isol8Containers() const {
    auto r = runProgram({"docker", "-H", host(), "ps", "-aq", "--filter", "label=isol8.managed"});
    std::vector<std::string> ids;
    for (std::size_t at = 0; at < r.out.size();) {
      auto end = r.out.find('\n', at);
      if (end == std::string::npos) end = r.out.size();
      if (end > at) ids.push_back(r.out.substr(at, end - at));
      at = end + 1;
    }
    return ids;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("drill: the Docker engine stops under a running engine and comes back", "[security][drill]") {
  PrivateDockerd dockerd;
  setenv("DOCKER_HOST", dockerd.host().c_str(), 1);
  isol8::EngineOptions options;
  options.poolSize = {1, 1};
  DockerIsol8 engine(options);
  engine.start({true, {"bash"}});
  REQUIRE(engine.execute(shellRequest("echo before")).stdoutText == "before\n");

  dockerd.stop();
  // The engine is away: a run fails with an error that says so (and does not hang).
  CHECK_THROWS_WITH(engine.execute(shellRequest("echo away")),
                    Catch::Contains("Docker") || Catch::Contains("docker") || Catch::Contains("supervisor"));

  dockerd.start();
  // Back: the pool's dead containers are replaced and runs work again.
  std::string after;
  for (int attempt = 0; attempt < 3 && after.empty(); ++attempt) {
    try {
      after = engine.execute(shellRequest("echo after")).stdoutText;
    } catch (const std::exception& e) {
      UNSCOPED_INFO("attempt " << attempt << ": " << e.what());
    }
  }
  CHECK(after == "after\n");
  engine.stop();
  CHECK(dockerd.isol8Containers().empty());
  unsetenv("DOCKER_HOST");
}
