// The isol8 CLI end to end: input resolution, runtimes, exit codes and error messages.
#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::test::runCli;
using isol8::test::TempDir;

namespace {
struct Hello {
  const char* runtime;
  const char* code;
  const char* file;
};
const Hello kHellos[] = {
    {"python", "print('hello')", "hello.py"}, {"node", "console.log('hello')", "hello.mjs"},
    {"bun", "console.log('hello')", "hello.ts"}, {"deno", "console.log('hello')", "hello.mts"},
    {"bash", "echo hello", "hello.sh"},
};
}  // namespace

TEST_CASE("each runtime runs hello from -e, from a file and from stdin", "[cli][runtimes]") {
  TempDir dir;
  for (const auto& h : kHellos) {
    SECTION(std::string(h.runtime) + " -e") {
      auto r = runCli({"run", "-r", h.runtime, "-e", h.code});
      CHECK(r.err == "");
      CHECK(r.out == "hello\n");
      CHECK(r.exitCode == 0);
    }
    SECTION(std::string(h.runtime) + " file, runtime detected from the extension") {
      auto r = runCli({"run", dir.write(h.file, h.code)});
      CHECK(r.err == "");
      CHECK(r.out == "hello\n");
      CHECK(r.exitCode == 0);
    }
    SECTION(std::string(h.runtime) + " stdin") {
      auto r = runCli({"run", "-r", h.runtime}, std::string(h.code) + "\n");
      CHECK(r.err == "");
      CHECK(r.out == "hello\n");
      CHECK(r.exitCode == 0);
    }
  }
}

TEST_CASE("stdin without -r runs python; -e defaults to python; --cmd defaults to bash", "[cli]") {
  CHECK(runCli({"run"}, "import sys; print(sys.version_info[0])").out == "3\n");
  CHECK(runCli({"run", "-e", "import sys; print(sys.version_info[0])"}).out == "3\n");
  CHECK(runCli({"run", "--cmd", "echo $BASH_VERSION | cut -c1"}).out == "5\n");
}

TEST_CASE("a .cjs file runs as CommonJS", "[cli][runtimes]") {
  TempDir dir;
  auto r = runCli({"run", dir.write("m.cjs", "const os = require('os'); console.log('CJS works', typeof os.cpus)")});
  CHECK(r.out == "CJS works function\n");
  CHECK(r.exitCode == 0);
}

TEST_CASE("the program's exit code is the CLI's exit code", "[cli]") {
  CHECK(runCli({"run", "-e", "import sys; sys.exit(3)"}).exitCode == 3);
  CHECK(runCli({"run", "--cmd", "exit 42"}).exitCode == 42);
  auto r = runCli({"run", "-e", "raise ValueError('boom')"});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::Contains("ValueError: boom"));
}

TEST_CASE("option --stdin feeds the program's standard input", "[cli]") {
  auto r = runCli({"run", "-e", "import sys; print(sys.stdin.read()[::-1])", "--stdin", "abc"});
  CHECK(r.out == "cba\n");
}

TEST_CASE("option --no-stream prints stdout and stderr exactly as produced", "[cli]") {
  auto r = runCli({"run", "--no-stream", "-e", "import sys; sys.stdout.write('a\\n\\n  '); sys.stderr.write('e ')"});
  CHECK(r.out == "a\n\n  ");
  CHECK(r.err == "e ");
  CHECK(r.exitCode == 0);
}

TEST_CASE("option --timeout ends a busy loop with exit 137 and says so", "[cli][limits]") {
  auto r = runCli({"run", "--timeout", "1000", "-e", "while True: pass"});
  CHECK(r.exitCode == 137);
  CHECK(r.err == "[ERR] EXECUTION TIMED OUT\n");
}

TEST_CASE("bad input gives [ERR] with the original's messages and exit 1", "[cli][errors]") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"run", "--memory", "lots", "-e", "print(1)"}, "[ERR] Invalid memory limit format: \"lots\". Use e.g. \"512m\", \"1g\".\n"},
      {{"run", "-r", "ruby", "-e", "puts 1"}, "[ERR] Unknown runtime: \"ruby\". Available: python, node, bun, bash, deno\n"},
      {{"run", "/no/such/file.py"}, "[ERR] File not found: /no/such/file.py\n"},
      {{"run", dir.write("x.xyz", "1")}, "[ERR] Cannot detect runtime for " + dir.path + "/x.xyz. Use --runtime to specify.\n"},
      {{"run", "--net", "bridge", "-e", "print(1)"}, "[ERR] Invalid network mode: \"bridge\". Expected one of: none, host, filtered\n"},
      {{"run", "--workdir", "/etc", "-e", "print(1)"}, "[ERR] Working directory must be inside /sandbox\n"},
      {{"run", "--cmd", "ls", "-e", "print(1)"}, "[ERR] --cmd cannot be used with file input or --eval.\n"},
  };
  for (const auto& c : cases) {
    auto r = runCli(c.args);
    CHECK(r.err == c.err);
    CHECK(r.out == "");
    CHECK(r.exitCode == 1);
  }
}

TEST_CASE("option --net filtered is refused until the egress proxy exists", "[cli][errors]") {
  auto r = runCli({"run", "--net", "filtered", "-e", "print(1)"});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::StartsWith("[ERR] Network mode \"filtered\" is not supported yet"));
}

TEST_CASE("an unreachable Docker engine is reported with how to start one", "[cli][errors]") {
  auto r = isol8::test::runProgram({"env", "DOCKER_HOST=unix:///nonexistent/docker.sock", ISOL8_CLI_PATH, "run", "-e", "print(1)"});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::StartsWith("[ERR] Docker is not running or not installed.\n"));
  CHECK_THAT(r.err, Catch::Contains("dockerd"));
}

TEST_CASE("version and help", "[cli]") {
  auto v = runCli({"--version"});
  CHECK(v.out == std::string(ISOL8_VERSION_TEXT) + "\n");
  auto h = runCli({});
  CHECK(h.exitCode == 0);
  CHECK_THAT(h.out, Catch::Contains("Usage: isol8"));
  auto u = runCli({"frobnicate"});
  CHECK(u.exitCode == 1);
  CHECK(u.err == "error: unknown command 'frobnicate'\n");
  auto o = runCli({"run", "--frob"});
  CHECK(o.exitCode == 1);
  CHECK(o.err == "error: unknown option '--frob'\n");
}
