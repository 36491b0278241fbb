// Mode persistent: one container for the engine's life; files survive between calls and
// round-trip through putFile/getFile byte for byte.
#include <catch2/catch.hpp>

#include <random>

#include "isol8/error.hpp"
#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionMode;
using isol8::ExecutionRequest;
using isol8::test::codeRequest;

namespace {

EngineOptions persistentOptions() {
  EngineOptions options;
  options.mode = ExecutionMode::persistent;
  return options;
}

}  // namespace

TEST_CASE("persistent: files in /sandbox and /tmp survive between calls", "[persistent]") {
  DockerIsol8 engine(persistentOptions());
  auto first = engine.execute(codeRequest("bash", "echo 41 > /sandbox/state.txt; echo t > /tmp/t.txt"));
  auto second = engine.execute(codeRequest("bash", "cat /sandbox/state.txt /tmp/t.txt"));
  CHECK(second.stdoutText == "41\nt\n");
  CHECK(first.containerId == second.containerId);
  CHECK(engine.containerId() == first.containerId);
  engine.stop();
  CHECK(engine.containerId().empty());
  CHECK(isol8::test::runProgram({"docker", "inspect", first.containerId}).exitCode != 0);
}

TEST_CASE("persistent: putFile and getFile round-trip binary data", "[persistent][files]") {
  DockerIsol8 engine(persistentOptions());
  engine.execute(codeRequest("python", "print('ready')"));
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  engine.putFile("/sandbox/data/bytes.bin", bytes);  // parent directory created
  CHECK(engine.getFile("/sandbox/data/bytes.bin") == bytes);
  // The code sees exactly those bytes too.
  auto r = engine.execute(codeRequest("python", "d = open('/sandbox/data/bytes.bin','rb').read(); print(len(d), d == bytes(range(256)))"));
  CHECK(r.stdoutText == "256 True\n");
  // A larger random file, and one the code wrote.
  std::mt19937 random(7);
  std::string big(3 * 1024 * 1024, '\0');
  for (auto& c : big) c = static_cast<char>(random());
  engine.putFile("/tmp/big.bin", big);
  CHECK(engine.getFile("/tmp/big.bin") == big);
  engine.execute(codeRequest("python", "open('/sandbox/out.bin','wb').write(bytes([0,255,10,13,0]))"));
  CHECK(engine.getFile("/sandbox/out.bin") == std::string("\0\xff\n\r\0", 5));
  CHECK_THROWS_WITH(engine.getFile("/sandbox/missing.txt"), Catch::Contains("/sandbox/missing.txt"));
  CHECK_THROWS_WITH(engine.putFile("/etc/passwd", "x"), Catch::Contains("inside /sandbox or /tmp"));
}

TEST_CASE("persistent: file operations need a container - the runtime cannot switch", "[persistent][errors]") {
  DockerIsol8 engine(persistentOptions());
  CHECK_THROWS_WITH(engine.putFile("/sandbox/a", "x"), "No active container. Call execute() first in persistent mode.");
  CHECK_THROWS_WITH(engine.getFile("/sandbox/a"), "No active container. Call execute() first in persistent mode.");
  engine.execute(codeRequest("python", "print(1)"));
  CHECK_THROWS_WITH(engine.execute(codeRequest("node", "console.log(1)")),
                    "Cannot switch runtime from \"python\" to \"node\". Each persistent container supports a single "
                    "runtime. Create a new Isol8 instance for a different runtime.");
  // Ephemeral engines have no container to talk to either.
  DockerIsol8 ephemeral;
  CHECK_THROWS_AS(ephemeral.getFile("/sandbox/a"), isol8::Error);
}
