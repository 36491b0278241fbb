// Streaming: see a run's output while it happens instead of waiting for the whole result.
// executeStream() returns an ExecutionStream of events (stdout/stderr chunks, then `exit`).
// It can be read two ways: a plain blocking loop, or co_await from your own io_context.
#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <isol8/isol8.hpp>

namespace asio = boost::asio;

// One line per event: its phase (setup or code), its type, and its data (one newline less).
void print(const isol8::StreamEvent& e) {
  const int length = static_cast<int>(e.data.size()) - (e.data.ends_with('\n') ? 1 : 0);
  std::printf("[%s %s] %.*s\n", isol8::toString(e.phase), isol8::toString(e.type), length, e.data.c_str());
  std::fflush(stdout);  // show it now, not when the buffer fills
}

int main() {
  isol8::DockerIsol8 engine;  // default options: no network, 30 s timeout
  isol8::ExecutionRequest req;
  req.runtime = "python";
  // Writes a line every 0.3 s: the events arrive one by one, not all at the end. (One write
  // per line: an event is whatever one write produced, and print() may write in pieces.)
  req.code = "import sys, time\nfor i in range(3):\n    sys.stdout.write(f'tick {i}\\n')\n    time.sleep(0.3)";

  // 1. Blocking: a range-for pulls the next event, waiting for it if needed.
  std::puts("-- blocking loop");
  for (const isol8::StreamEvent& e : engine.executeStream(req)) print(e);

  // 2. Asynchronous: the same events awaited inside a coroutine on this program's own
  //    io_context, which stays free to do other work between events.
  std::puts("-- co_await");
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto stream = engine.executeStream(req);
        while (auto e = co_await stream.next()) print(*e);  // nullopt after `exit`
      },
      asio::detached);
  io.run();  // returns when the coroutine is done
  return 0;
}
