// executeStream against the real engine: events arrive while the program runs, in order,
// kept apart by stream and phase, with the original's endings for timeouts and failures.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::test::codeRequest;
using isol8::StreamEvent;
using Clock = std::chrono::steady_clock;

namespace {

struct Seen {
  StreamEvent event;
  Clock::time_point at;
};

std::vector<Seen> collect(isol8::ExecutionStream stream) {
  std::vector<Seen> seen;
  for (const StreamEvent& e : stream) seen.push_back({e, Clock::now()});
  return seen;
}

std::string joined(const std::vector<Seen>& seen, StreamEvent::Type type) {
  std::string text;
  for (const auto& s : seen)
    if (s.event.type == type) text += s.event.data;
  return text;
}

}  // namespace

TEST_CASE("the stream yields stdout before the program ends", "[stream]") {
  DockerIsol8 engine;
  auto seen = collect(engine.executeStream(
      codeRequest("python", "import time\nprint('one', flush=True)\ntime.sleep(0.6)\nprint('two', flush=True)")));
  // When did "one\n" and "two" arrive? (Chunk boundaries are the program's business: look
  // at the text accumulated so far.) Streamed, "one" shows while the program sleeps.
  std::string text;
  Clock::time_point sawOne{}, sawTwo{};
  for (const auto& s : seen) {
    if (s.event.type != StreamEvent::Type::stdout_data) continue;
    text += s.event.data;
    if (sawOne == Clock::time_point{} && text.find("one\n") != std::string::npos) sawOne = s.at;
    if (sawTwo == Clock::time_point{} && text.find("two") != std::string::npos) sawTwo = s.at;
  }
  CHECK(text == "one\ntwo\n");
  REQUIRE(sawTwo != Clock::time_point{});
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(sawTwo - sawOne).count() >= 400);
  CHECK(seen.back().event.type == StreamEvent::Type::exit);
  CHECK(seen.back().event.data == "0");
  for (const auto& s : seen) CHECK(s.event.phase == StreamEvent::Phase::code);
}

TEST_CASE("a host program consumes the stream with co_await on its own io_context", "[stream]") {
  DockerIsol8 engine;
  boost::asio::io_context host;
  auto consume = [&]() -> boost::asio::awaitable<std::string> {
    auto stream = engine.executeStream(codeRequest("python", "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)"));
    std::string log;
    while (auto e = co_await stream.next()) log += std::string(isol8::toString(e->type)) + ":" + e->data + "|";
    co_return log;
  };
  auto future = boost::asio::co_spawn(host, consume(), boost::asio::use_future);
  host.run();
  const std::string log = future.get();
  // stdout and stderr stay apart; the exit code comes last.
  CHECK_THAT(log, Catch::Contains("stdout:out|") || Catch::Contains("stdout:out\n|"));
  CHECK_THAT(log, Catch::Contains("stderr:err"));
  CHECK_THAT(log, !Catch::Contains("stdout:err") && !Catch::Contains("stderr:out"));
  CHECK_THAT(log, Catch::EndsWith("exit:3|"));
}

TEST_CASE("a failing program streams its error and a non-zero exit", "[stream]") {
  DockerIsol8 engine;
  auto seen = collect(engine.executeStream(codeRequest("python", "raise ValueError('boom')")));
  CHECK_THAT(joined(seen, StreamEvent::Type::stderr_data), Catch::Contains("ValueError: boom"));
  REQUIRE(seen.back().event.type == StreamEvent::Type::exit);
  CHECK(seen.back().event.data != "0");
}

TEST_CASE("a streamed timeout ends with EXECUTION TIMED OUT and exit 137", "[stream][timeout]") {
  DockerIsol8 engine;
  auto req = codeRequest("python", "print('started', flush=True)\nwhile True: pass");
  req.timeoutMs = 1000;
  auto seen = collect(engine.executeStream(req));
  REQUIRE(seen.size() >= 3);
  CHECK(joined(seen, StreamEvent::Type::stdout_data) == "started\n");
  CHECK(seen[seen.size() - 2].event.type == StreamEvent::Type::error);
  CHECK(seen[seen.size() - 2].event.data == "EXECUTION TIMED OUT");
  CHECK(seen.back().event.type == StreamEvent::Type::exit);
  CHECK(seen.back().event.data == "137");
}

TEST_CASE("setup output is phase setup - a failing setup ends the stream with its exit code", "[stream][setup]") {
  DockerIsol8 engine;
  auto req = codeRequest("python", "print('code ran')");
  req.setupScript = "echo preparing";
  auto seen = collect(engine.executeStream(req));
  // The text of each phase, marked where the phase changes.
  std::string order;
  std::optional<StreamEvent::Phase> phase;
  for (const auto& s : seen) {
    if (s.event.type != StreamEvent::Type::stdout_data) continue;
    if (s.event.phase != phase) order += s.event.phase == StreamEvent::Phase::setup ? "[setup]" : "[code]";
    phase = s.event.phase;
    order += s.event.data;
  }
  CHECK(order == "[setup]preparing\n[code]code ran\n");

  req.setupScript = "echo half; exit 3";
  seen = collect(engine.executeStream(req));
  CHECK(joined(seen, StreamEvent::Type::stdout_data) == "half\n");  // the code never ran
  REQUIRE(seen.size() >= 2);
  CHECK(seen[seen.size() - 2].event.type == StreamEvent::Type::error);
  CHECK(seen[seen.size() - 2].event.data == "Setup script failed (exit code 3)");
  CHECK(seen[seen.size() - 2].event.phase == StreamEvent::Phase::setup);
  CHECK(seen.back().event.data == "3");
  CHECK(seen.back().event.phase == StreamEvent::Phase::setup);
}

TEST_CASE("streamed output is capped at maxOutputSize with the truncation marker", "[stream][output]") {
  EngineOptions options;
  options.maxOutputSize = 1000;
  DockerIsol8 engine(options);
  auto seen = collect(engine.executeStream(codeRequest("python", "import sys\nfor i in range(50):\n  sys.stdout.write('x' * 100)\n  sys.stdout.flush()")));
  const std::string out = joined(seen, StreamEvent::Type::stdout_data);
  CHECK(out == std::string(1000, 'x') + "\n\n--- OUTPUT TRUNCATED (5000 bytes, limit: 1000) ---");
  CHECK(seen.back().event.data == "0");
}

TEST_CASE("abandoning a stream stops its run and frees its slot", "[stream][cancel]") {
  EngineOptions options;
  options.maxConcurrent = 1;  // the next run can only start once the abandoned one is over
  DockerIsol8 engine(options);
  auto req = codeRequest("python", "import time\nprint('started', flush=True)\ntime.sleep(120)");
  req.timeoutMs = 200000;
  {
    auto stream = engine.executeStream(req);
    auto first = stream.nextBlocking();
    REQUIRE(first);
    CHECK_THAT(first->data, Catch::StartsWith("started"));  // chunking is the program's business
  }  // destroyed mid-run
  const auto before = Clock::now();
  auto r = engine.execute(codeRequest("python", "print('next')"));
  CHECK(r.stdoutText == "next\n");
  // Without cancellation this would wait for the 120 s sleep.
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - before).count() < 60);
}
