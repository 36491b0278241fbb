#include "engine/runtimes.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using isol8::errc;
using namespace isol8::detail;
using Argv = std::vector<std::string>;

TEST_CASE("runtimeNames lists the runtimes in registry order", "[runtimes]") {
  CHECK(runtimeNames() == Argv{"python", "node", "bun", "bash", "deno"});
}

TEST_CASE("python runtime", "[runtimes]") {
  const Runtime& r = runtimeByName("python");
  CHECK(r.name == "python");
  CHECK(r.image == "isol8:python");
  CHECK(r.extension == ".py");
  CHECK(r.aliases.empty());
  CHECK(r.runsInline);
  CHECK(r.inlineCommand("print(1)") == Argv{"python3", "-c", "print(1)"});
  CHECK(r.fileCommand("/sandbox/main.py") == Argv{"python3", "/sandbox/main.py"});
}

TEST_CASE("node runtime", "[runtimes]") {
  const Runtime& r = runtimeByName("node");
  CHECK(r.image == "isol8:node");
  CHECK(r.extension == ".mjs");
  CHECK(r.aliases == Argv{".js", ".cjs"});
  CHECK(r.runsInline);
  CHECK(r.inlineCommand("console.log(1)") == Argv{"node", "-e", "console.log(1)"});
  CHECK(r.fileCommand("/sandbox/main.mjs") == Argv{"node", "/sandbox/main.mjs"});
}

TEST_CASE("bun runtime", "[runtimes]") {
  const Runtime& r = runtimeByName("bun");
  CHECK(r.image == "isol8:bun");
  CHECK(r.extension == ".ts");
  CHECK(r.aliases.empty());
  CHECK(r.runsInline);
  CHECK(r.inlineCommand("1") == Argv{"bun", "-e", "1"});
  CHECK(r.fileCommand("/sandbox/main.ts") == Argv{"bun", "run", "/sandbox/main.ts"});
}

TEST_CASE("bash runtime", "[runtimes]") {
  const Runtime& r = runtimeByName("bash");
  CHECK(r.image == "isol8:bash");
  CHECK(r.extension == ".sh");
  CHECK(r.runsInline);
  CHECK(r.inlineCommand("echo hi") == Argv{"bash", "-c", "echo hi"});
  CHECK(r.fileCommand("/sandbox/main.sh") == Argv{"bash", "/sandbox/main.sh"});
}

TEST_CASE("deno runtime runs files only, with its permission flags", "[runtimes]") {
  const Runtime& r = runtimeByName("deno");
  CHECK(r.image == "isol8:deno");
  CHECK(r.extension == ".mts");
  CHECK_FALSE(r.runsInline);
  CHECK(r.fileCommand("/sandbox/main.mts") == Argv{"deno", "run", "--allow-read=/sandbox,/tmp",
                                                   "--allow-write=/sandbox,/tmp", "--allow-env", "--allow-net",
                                                   "/sandbox/main.mts"});
  REQUIRE_ISOL8_ERROR(r.inlineCommand("console.log(1)"), errc::not_supported,
                      "Deno adapter requires a file path — inline code is not supported.");
}

TEST_CASE("code is passed as one argv element, never re-split or quoted", "[runtimes]") {
  const std::string code = "print('a b'); print(\"$(x)\")\nprint(2)";
  CHECK(runtimeByName("python").inlineCommand(code).at(2) == code);
  CHECK(runtimeByName("bash").fileCommand("/sandbox/a b.sh").at(1) == "/sandbox/a b.sh");
}

TEST_CASE("runtimeByName rejects unknown names with the original message", "[runtimes]") {
  REQUIRE_ISOL8_ERROR(runtimeByName("ruby"), errc::invalid_request,
                      "Unknown runtime: \"ruby\". Available: python, node, bun, bash, deno");
  REQUIRE_ISOL8_ERROR(runtimeByName(""), errc::invalid_request,
                      "Unknown runtime: \"\". Available: python, node, bun, bash, deno");
  // Names are exact: no case folding, and the out-of-scope agent runtime is not there.
  REQUIRE_ISOL8_ERROR(runtimeByName("Python"), errc::invalid_request,
                      "Unknown runtime: \"Python\". Available: python, node, bun, bash, deno");
  REQUIRE_ISOL8_ERROR(runtimeByName("agent"), errc::invalid_request,
                      "Unknown runtime: \"agent\". Available: python, node, bun, bash, deno");
}

TEST_CASE("runtimeByName returns the same registry entry every time", "[runtimes]") {
  CHECK(&runtimeByName("node") == &runtimeByName("node"));
  CHECK(detectRuntime("x.cjs") == &runtimeByName("node"));
}

namespace {
std::string detected(std::string_view filename) {
  const Runtime* r = detectRuntime(filename);
  return r ? r->name : "<none>";
}
}  // namespace

TEST_CASE("detectRuntime maps extensions and aliases", "[runtimes]") {
  CHECK(detected("main.py") == "python");
  CHECK(detected("main.mjs") == "node");
  CHECK(detected("main.js") == "node");
  CHECK(detected("main.cjs") == "node");
  CHECK(detected("main.ts") == "bun");
  CHECK(detected("main.sh") == "bash");
  CHECK(detected("main.mts") == "deno");
}

TEST_CASE("detectRuntime uses the last dot of the base name only", "[runtimes]") {
  CHECK(detected("/home/me/project/app.test.py") == "python");
  CHECK(detected("archive.py.txt") == "<none>");
  CHECK(detected("dir.v2/script") == "<none>");
  CHECK(detected("dir.py/script") == "<none>");
  CHECK(detected("Makefile") == "<none>");
  CHECK(detected("") == "<none>");
  CHECK(detected("notes.txt") == "<none>");  // .txt was the agent's; the agent is out of scope
  CHECK(detected("main.PY") == "<none>");    // extensions are case-sensitive, as in the original
  CHECK(detected("trailingdot.") == "<none>");
}

TEST_CASE("fileExtensionOf", "[runtimes]") {
  CHECK(fileExtensionOf("main.py") == ".py");
  CHECK(fileExtensionOf("a/b/c.tar.gz") == ".gz");
  CHECK(fileExtensionOf("dir.v2/script") == "");
  CHECK(fileExtensionOf("script") == "");
  CHECK(fileExtensionOf("file.") == ".");
  CHECK(fileExtensionOf("") == "");
}
