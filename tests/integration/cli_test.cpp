// The isol8 CLI end to end: input resolution, runtimes, exit codes and error messages.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

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

TEST_CASE("stdin without -r runs python - -e defaults to python - --cmd defaults to bash", "[cli]") {
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

TEST_CASE("run takes its defaults from isol8.config.json - flags override it", "[cli][config]") {
  isol8::test::TempDir dir;
  dir.write("isol8.config.json", R"({"defaults": {"timeoutMs": 700}})");
  auto timedOut = runCli({"run", "--cmd", "sleep 5; echo late"}, std::nullopt, dir.path);
  CHECK(timedOut.exitCode == 137);
  CHECK(timedOut.out.empty());
  CHECK_THAT(timedOut.err, Catch::Contains("EXECUTION TIMED OUT"));
  auto overridden = runCli({"run", "--timeout", "20000", "--cmd", "sleep 1; echo in time"}, std::nullopt, dir.path);
  CHECK(overridden.exitCode == 0);
  CHECK(overridden.out == "in time\n");
  dir.write("isol8.config.json", R"({"defaults": {"timeoutMs": "soon"}})");
  auto invalid = runCli({"run", "-e", "print(1)"}, std::nullopt, dir.path);
  CHECK(invalid.exitCode == 1);
  CHECK_THAT(invalid.err, Catch::StartsWith("[ERR] Invalid config file ") && Catch::Contains("defaults.timeoutMs"));
}

TEST_CASE("run flags: --secret masks, --setup runs first, --files injects, --out writes stdout", "[cli]") {
  isol8::test::TempDir dir;
  dir.write("setup.sh", "echo from-file > /sandbox/setup.txt\n");
  std::filesystem::create_directories(dir.path + "/project/lib");
  std::filesystem::create_directories(dir.path + "/project/.git");
  dir.write("project/main.txt", "top");
  dir.write("project/lib/util.txt", "nested");
  dir.write("project/.git/config", "skipped");
  const std::string out = dir.path + "/out.txt";
  auto r = runCli({"run", "--secret", "TOKEN=s3cr3t-value", "--setup", "echo literal > /sandbox/lit.txt", "--setup",
                   dir.path + "/setup.sh", "--files", dir.path + "/project", "--out", out, "--cmd",
                   "echo $TOKEN; cat /sandbox/lit.txt /sandbox/setup.txt /sandbox/main.txt /sandbox/lib/util.txt; "
                   "test -e /sandbox/.git && echo git-copied || echo no-git"});
  CHECK(r.exitCode == 0);
  CHECK(r.out == "***\nliteral\nfrom-file\ntopnestedno-git\n");
  std::ifstream written(out);
  std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  CHECK(text == r.out);
  CHECK_THAT(r.err, Catch::Contains("[Run] Output written to " + out));
  auto bad = runCli({"run", "--secret", "NOEQUALS", "-e", "print(1)"});
  CHECK(bad.exitCode == 1);
  CHECK(bad.err == "[ERR] Invalid --secret \"NOEQUALS\": expected KEY=VALUE\n");
  auto notDir = runCli({"run", "--files", out, "-e", "print(1)"});
  CHECK(notDir.exitCode == 1);
  CHECK(notDir.err == "[ERR] --files path is not a directory: " + out + "\n");
}

TEST_CASE("run --max-output caps streamed output too", "[cli]") {
  auto capped = runCli({"run", "--max-output", "100", "-e", "print('z' * 1000)"});
  CHECK(capped.exitCode == 0);
  CHECK(capped.out == std::string(100, 'z') + "\n\n--- OUTPUT TRUNCATED (1001 bytes, limit: 100) ---");
}

TEST_CASE("setup builds the config's prebuiltImages, and their setup script runs with --image", "[cli][images]") {
  isol8::test::TempDir dir;
  const std::string tag = "isol8-test-prebuilt-" + std::to_string(::getpid()) + ":latest";
  dir.write("isol8.config.json", R"({"prebuiltImages": [{"tag": ")" + tag +
                                     R"(", "runtime": "bash", "installPackages": [],
                                     "setupScript": "echo prebuilt-marker > /sandbox/.marker"}]})");
  auto first = runCli({"setup"}, std::nullopt, dir.path);
  CHECK(first.exitCode == 0);
  CHECK_THAT(first.out, Catch::Contains("[OK] " + tag + " (bash: )"));
  auto again = runCli({"setup"}, std::nullopt, dir.path);
  CHECK_THAT(again.out, Catch::Contains("[OK] " + tag + " (already exists)"));
  // The image's setup script (label org.isol8.setup) runs before the code.
  auto run = runCli({"run", "--image", tag, "--cmd", "cat /sandbox/.marker"});
  CHECK(run.exitCode == 0);
  CHECK(run.out == "prebuilt-marker\n");
  isol8::test::runProgram({"docker", "rmi", "-f", tag});
}
