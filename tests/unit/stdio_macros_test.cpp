// The public headers must compile where stdin, stdout and stderr are macros that are not plain
// names: MSVC defines them as `(__acrt_iob_func(1))`, musl as `(stdout)`. The test is that this
// file compiles: the macros below are in force when <isol8/isol8.hpp> is read, so a member or
// enumerator named stdout/stderr/stdin (e.g. `enum class Type { stdout, ... }`) is a syntax error.
#include <catch2/catch.hpp>

#include <cstdio>

namespace {
std::FILE* isol8_stdio_is_a_macro(int fd) { return fd == 0 ? stdin : fd == 1 ? stdout : stderr; }
}  // namespace

// <cstdio> has been read (its include guard keeps it from redefining these), so from here on
// the standard streams look as they do on MSVC.
#undef stdin
#undef stdout
#undef stderr
#define stdin (isol8_stdio_is_a_macro(0))
#define stdout (isol8_stdio_is_a_macro(1))
#define stderr (isol8_stdio_is_a_macro(2))

#include <isol8/isol8.hpp>

TEST_CASE("public types compile and work where stdin, stdout and stderr are macros", "[api]") {
  isol8::ExecutionRequest request;
  request.stdinText = "input";
  isol8::ExecutionResult result;
  result.stdoutText = "out";
  result.stderrText = "err";
  const isol8::StreamEvent out{isol8::StreamEvent::Type::stdout_data, "out"};
  const isol8::StreamEvent err{isol8::StreamEvent::Type::stderr_data, "err"};
  // The wire names are unchanged.
  CHECK(std::string(isol8::toString(out.type)) == "stdout");
  CHECK(std::string(isol8::toString(err.type)) == "stderr");
  CHECK(stdout != nullptr);  // the macro is the one in force
  CHECK(*request.stdinText + result.stdoutText + result.stderrText == "inputouterr");
}
