// Run isolation through the real isol8-server: tenants never share a container, a session's
// runs do not see each other's processes, a timed-out execute leaves nothing running, and a
// server that dies does not leave sandbox code running.
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <sstream>
#include <thread>

#include "server_fixture.hpp"
#include "support.hpp"
#include "util/text.hpp"

using namespace isol8::test;
namespace json = boost::json;
using isol8::test::parseObject;
using isol8::test::str;
using Clock = std::chrono::steady_clock;
using isol8::test::countMarked;
using isol8::test::joined;
using isol8::test::randomMarker;
using isol8::test::sandboxProcesses;
using isol8::test::sandboxProcessesAfter;

namespace {

constexpr const char* kQuietConfig = R"({"server":{"prewarm":[]}})";


// POST /execute with {"request": request, ...extra}; the result object (status 200 required).
json::object execute(const ServerProcess& s, const Headers& h, json::object request, json::object extra = {}) {
  extra["request"] = std::move(request);
  auto r = httpRequest("POST", s.url() + "/execute", json::serialize(extra), h);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return parseObject(r.body);
}

json::object bash(const std::string& code) { return json::object{{"runtime", "bash"}, {"code", code}}; }

std::string createKey(const ServerProcess& s, const std::string& name, const std::string& tenant) {
  auto r = httpRequest("POST", s.url() + "/auth/keys", json::serialize(json::object{{"name", name}, {"tenantId", tenant}}),
                       {bearer(s.masterKey())});
  INFO(r.body);
  REQUIRE(r.status == 201);
  return str(parseObject(r.body).at("key"));
}


}  // namespace

TEST_CASE("isolation server: two tenants never share a container and a daemon cannot loot the other tenant", "[isolation][server]") {
  TempDir dir;
  ServerLaunch launch;
  // One run at a time and a small pool, so a shared pool would hand A's container to B.
  launch.configJson = R"({"maxConcurrent":1,"poolSize":{"clean":1,"dirty":1},"server":{"prewarm":[]}})";
  launch.authDb = dir.path + "/auth.db";
  ServerProcess server(launch);
  const Headers a{bearer(createKey(server, "a", "tenant-a"))};
  const Headers b{bearer(createKey(server, "b", "tenant-b"))};
  const std::string secret = "b-secret-" + isol8::detail::randomHex(8);

  // Tenant A leaves a daemon copying every file in /sandbox and every process's environment.
  auto planted = execute(server, a,
                         bash("setsid nohup bash -c 'while :; do for f in /sandbox/* /proc/[0-9]*/environ; do "
                              "cat \"$f\" >> /tmp/loot 2>/dev/null; done; sleep 0.05; done' looter >/dev/null 2>&1 "
                              "</dev/null & until [ -e /tmp/loot ]; do sleep 0.01; done; echo planted"));
  REQUIRE(str(planted.at("stdout")) == "planted\n");
  const std::string aContainer = str(planted.at("containerId"));

  for (int i = 0; i < 4; ++i) {
    auto request = bash("echo \"$B_SECRET\" > /sandbox/b.txt; [ -e /tmp/loot ] && echo loot-found || echo no-loot");
    request["env"] = json::object{{"B_SECRET", secret}};
    auto r = execute(server, b, request);
    INFO("tenant B's run " << i + 1);
    CHECK(str(r.at("containerId")) != aContainer);
    CHECK(str(r.at("stdout")) == "no-loot\n");
  }
  // Whatever A's daemon collected, B's secret is not in it, in any container A gets.
  for (int i = 0; i < 3; ++i) {
    auto r = execute(server, a, bash("grep -qs -- '" + secret + "' /tmp/loot /sandbox/* && echo stolen || echo nothing"));
    INFO("tenant A's run " << i + 1);
    CHECK(str(r.at("stdout")) == "nothing\n");
  }
}

TEST_CASE("isolation server: a session's next run sees no process of the previous run but keeps its files", "[isolation][server]") {
  ServerLaunch launch;
  launch.configJson = kQuietConfig;
  ServerProcess server(launch);
  const Headers h{bearer(server.masterKey())};
  const json::object session{{"sessionId", "iso-" + isol8::detail::randomHex(4)}};
  const std::string marker = randomMarker("session-loop-");
  auto first = execute(server, h,
                       bash("echo kept > /sandbox/keep.txt; bash -c 'touch /tmp/up; while :; do sleep 0.05; done' " +
                            marker + " >/dev/null 2>&1 </dev/null & until [ -e /tmp/up ]; do sleep 0.01; done; echo started"),
                       session);
  REQUIRE(str(first.at("stdout")) == "started\n");
  auto request = bash("echo \"setup=$(cat /sandbox/setup-saw) code=" + countMarked(marker) + " kept=$(cat /sandbox/keep.txt)\"");
  request["setupScript"] = "echo " + countMarked(marker) + " > /sandbox/setup-saw";
  auto second = execute(server, h, request, session);
  INFO(str(second.at("stderr")));
  CHECK(str(second.at("containerId")) == str(first.at("containerId")));
  CHECK(str(second.at("stdout")) == "setup=0 code=0 kept=kept\n");
}

TEST_CASE("isolation server: a timed-out execute answers in time and leaves no process running", "[isolation][server][timeout]") {
  ServerLaunch launch;
  launch.configJson = kQuietConfig;
  ServerProcess server(launch);
  const Headers h{bearer(server.masterKey())};
  const auto started = Clock::now();
  auto r = execute(server, h,
                   bash("setsid bash -c 'while :; do :; done' spinner >/dev/null 2>&1 </dev/null & "
                        "bash -c 'while :; do :; done' spinner & while :; do :; done"),
                   json::object{{"options", json::object{{"timeoutMs", 3000}}}});
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  INFO("answered after " << took.count() << " ms");
  CHECK(r.at("timedOut").as_bool());
  CHECK(took < std::chrono::seconds(8));
  const auto left = sandboxProcessesAfter(str(r.at("containerId")), std::chrono::seconds(5));
  INFO("uid-100 processes left after the timed-out run:\n" << joined(left));
  CHECK(left.empty());
}

TEST_CASE("isolation server: killing isol8-server mid-run stops the sandbox code", "[isolation][server]") {
  ServerLaunch launch;
  launch.configJson = kQuietConfig;
  ServerProcess server(launch);
  const std::string marker = randomMarker("orphaned-run-");
  const std::string body = json::serialize(json::object{
      {"request", json::object{{"runtime", "bash"},
                               {"code", "while :; do date +%s%N >> /tmp/heartbeat; sleep 0.05; done # " + marker},
                               {"timeoutMs", 4000}}}});
  // A buffered execute in flight; it ends with an error when the server dies.
  std::jthread client([&] {
    try {
      httpRequest("POST", server.url() + "/execute", body, {bearer(server.masterKey())});
    } catch (const std::exception&) {
    }
  });

  // The run's container, found by the marked command; removed (with its engine's other
  // containers) at the end, since the killed server cannot.
  struct Leftovers {
    std::string id;
    ~Leftovers() {
      if (id.empty()) return;
      auto engine = runProgram({"docker", "inspect", "-f", "{{index .Config.Labels \"isol8.engine\"}}", id});
      std::vector<std::string> ids{id};
      const std::string label = trimmed(engine.out);
      if (engine.exitCode == 0 && !label.empty())
        for (const auto& other : containersWithLabel("isol8.engine=" + label)) ids.push_back(other);
      for (const auto& c : ids) runProgram({"docker", "rm", "-f", c});
    }
    static std::string trimmed(std::string s) {
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      return s;
    }
  } leftovers;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (leftovers.id.empty() && Clock::now() < deadline) {
    for (const auto& id : containersWithLabel("isol8.runtime=bash"))
      if (joined(sandboxProcesses(id)).find(marker) != std::string::npos) leftovers.id = id;
    if (leftovers.id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling for the run
  }
  INFO(server.output());
  REQUIRE_FALSE(leftovers.id.empty());
  REQUIRE(kill(server.pid(), SIGKILL) == 0);
  const auto left = sandboxProcessesAfter(leftovers.id, std::chrono::seconds(8));
  INFO("uid-100 processes 8 s after the server was killed:\n" << joined(left));
  CHECK(left.empty());
}
