// A consumer of the installed library: one buffered execute and one stream against the real
// Docker engine. Exits 0 only when both printed what they should (tests/consumer/run.sh).
#include <cstdio>
#include <string>
#include <string_view>

#include <isol8/isol8.hpp>

// The event's data on one line: newlines as \n.
std::string oneLine(std::string_view data) {
  std::string line;
  for (char c : data) line += c == '\n' ? std::string("\\n") : std::string(1, c);
  return line;
}

int main() {
  try {
    isol8::DockerIsol8 engine;

    isol8::ExecutionRequest request;
    request.runtime = "python";
    request.code = "print('consumer execute', 6 * 7)";
    const isol8::ExecutionResult result = engine.execute(request);
    std::printf("execute: exit %d, stdout %s\n", result.exitCode, oneLine(result.stdoutText).c_str());
    const bool executeOk = result.exitCode == 0 && result.stdoutText == "consumer execute 42\n";

    isol8::ExecutionRequest streamRequest;
    streamRequest.runtime = "python";
    streamRequest.code = "print('consumer stream one')\nprint('consumer stream two')";
    std::string out;
    std::string exitCode;
    for (const isol8::StreamEvent& e : engine.executeStream(streamRequest)) {
      std::printf("stream: [%s %s] %s\n", isol8::toString(e.phase), isol8::toString(e.type),
                  oneLine(e.data).c_str());
      if (e.type == isol8::StreamEvent::Type::stdout_data) out += e.data;
      if (e.type == isol8::StreamEvent::Type::exit) exitCode = e.data;
    }
    const bool streamOk = out == "consumer stream one\nconsumer stream two\n" && exitCode == "0";

    engine.stop();
    std::printf("isol8 %s: execute %s, stream %s\n", isol8::version(), executeOk ? "ok" : "WRONG",
                streamOk ? "ok" : "WRONG");
    return executeOk && streamOk ? 0 : 1;
  } catch (const isol8::Error& e) {
    std::fprintf(stderr, "isol8_consumer: %s\n", e.what());
    return 1;
  }
}
