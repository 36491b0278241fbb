// Persistent mode: one container kept for the engine's whole life, so files stay between
// runs. Put a data file in, run code that reads it and writes a result, take the result out.
#include <cstdio>

#include <isol8/isol8.hpp>

int main() {
  isol8::EngineOptions options;
  options.mode = isol8::ExecutionMode::persistent;
  isol8::DockerIsol8 engine(options);
  try {
    // The container is created by the first execute(); putFile/getFile need it to exist.
    isol8::ExecutionRequest hello;
    hello.runtime = "python";
    hello.code = "print('session ready')";
    std::fputs(engine.execute(hello).stdoutText.c_str(), stdout);

    // Copy a data file in (paths must be inside /sandbox or /tmp).
    engine.putFile("/sandbox/numbers.txt", "3\n1\n4\n1\n5\n9\n2\n6\n");

    // The code reads the file and writes its result to another file.
    isol8::ExecutionRequest sum;
    sum.runtime = "python";  // a persistent container serves one runtime
    sum.code =
        "nums = [int(line) for line in open('/sandbox/numbers.txt')]\n"
        "open('/sandbox/result.txt', 'w').write(f'count={len(nums)} sum={sum(nums)}\\n')\n"
        "print('wrote result.txt')";
    auto result = engine.execute(sum);
    std::fputs(result.stdoutText.c_str(), stdout);
    if (result.exitCode != 0) std::fputs(result.stderrText.c_str(), stderr);

    // Copy the result back out, as bytes.
    std::printf("result.txt: %s", engine.getFile("/sandbox/result.txt").c_str());

    engine.stop();  // removes the container (the destructor would too)
  } catch (const isol8::Error& e) {
    std::fprintf(stderr, "isol8: %s\n", e.what());
    return 1;
  }
  return 0;
}
