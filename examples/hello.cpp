// The smallest host program: run one snippet, print what it printed.
#include <cstdio>

#include <isol8/isol8.hpp>

int main() {
  isol8::DockerIsol8 engine;
  isol8::ExecutionRequest request;
  request.runtime = "python";
  request.code = "print('hello from the sandbox')";
  try {
    auto result = engine.execute(request);
    std::fputs(result.stdoutText.c_str(), stdout);
    return result.exitCode;
  } catch (const isol8::Error& e) {
    std::fprintf(stderr, "isol8: %s\n", e.what());
    return 1;
  }
}
