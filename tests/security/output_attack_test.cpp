// Attacks through what a run sends back: file names and sizes the code controls, secrets in
// files, output sized to exhaust the host. Each case is a real program run through isol8 with
// an assertion that the host side held.
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::DockerIsol8;
using isol8::test::codeRequest;
using isol8::test::shellRequest;

TEST_CASE("attack: planted files with traversal names do not reach result.files", "[security][output]") {
  DockerIsol8 engine;
  // The code plants files whose names, were a tar member name trusted, would land outside a
  // client's folder; and a symlink named as an asked path that points at /etc/passwd.
  auto req = shellRequest(
      "mkdir -p '/sandbox/..' /sandbox/out; printf owned > '/sandbox/out/..%2f..%2fbashrc'; "
      "printf fine > /sandbox/out/ok.txt; ln -s /etc/passwd /sandbox/out/passwd; "
      "mkdir -p '/tmp/../../home/user' 2>/dev/null; true");
  req.outputPaths = {"/sandbox/out/ok.txt", "/sandbox/out/passwd", "/sandbox/out/../out/ok.txt"};
  auto r = engine.execute(req);
  REQUIRE(r.exitCode == 0);
  // Only asked paths, normalised, inside /sandbox or /tmp; the symlink is not followed.
  for (const auto& [path, content] : r.files) {
    INFO(path);
    CHECK((path.starts_with("/sandbox/") || path.starts_with("/tmp/")));
    CHECK(path.find("..") == std::string::npos);
    CHECK(content.find("root:") == std::string::npos);
  }
  CHECK(r.files.size() == 1);
  CHECK(r.files.at("/sandbox/out/ok.txt") == "fine");
}

namespace {
isol8::EngineOptions withFileCap(std::int64_t bytes) {
  isol8::EngineOptions options;
  options.maxFileSize = bytes;
  return options;
}
// CPU time this process has used, user + system, in seconds.
double processCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}
}  // namespace

TEST_CASE("attack: a huge sparse file asked for in outputPaths is refused by its size, not read", "[security][output]") {
  DockerIsol8 engine;  // maxFileSize: 32 MiB by default, in a 16 MiB sandbox
  auto req = shellRequest("truncate -s 256M /sandbox/sparse.bin && echo made");
  req.outputPaths = {"/sandbox/sparse.bin"};
  CHECK_THROWS_WITH(engine.execute(req), Catch::Contains("/sandbox/sparse.bin") && Catch::Contains("maxFileSize (33554432 bytes)"));
}

TEST_CASE("attack: files read back are capped by maxFileSize, at and just past it, alone and together", "[security][output]") {
  constexpr std::int64_t cap = 1 << 20;
  DockerIsol8 engine(withFileCap(cap));
  auto at = shellRequest("head -c 1048576 /dev/zero > /sandbox/at.bin");
  at.outputPaths = {"/sandbox/at.bin"};
  CHECK(engine.execute(at).files.at("/sandbox/at.bin").size() == static_cast<std::size_t>(cap));

  auto past = shellRequest("head -c 1048577 /dev/zero > /sandbox/past.bin");
  past.outputPaths = {"/sandbox/past.bin"};
  CHECK_THROWS_WITH(engine.execute(past), Catch::Contains("/sandbox/past.bin") && Catch::Contains("maxFileSize (1048576 bytes)"));

  // Two files that fit one by one but not together: the cap is for the request.
  auto together = shellRequest("head -c 600000 /dev/zero > /sandbox/a.bin; head -c 600000 /dev/zero > /tmp/b.bin");
  together.outputPaths = {"/sandbox/a.bin", "/tmp/b.bin"};
  CHECK_THROWS_WITH(engine.execute(together), Catch::Contains("/tmp/b.bin") && Catch::Contains("maxFileSize"));
}

TEST_CASE("attack: getFile in a session is capped by maxFileSize", "[security][output]") {
  auto options = withFileCap(4096);
  options.mode = isol8::ExecutionMode::persistent;
  DockerIsol8 engine(options);
  engine.start();
  REQUIRE(engine.execute(shellRequest("head -c 4096 /dev/zero > /sandbox/at; head -c 4097 /dev/zero > /sandbox/past")).exitCode == 0);
  CHECK(engine.getFile("/sandbox/at").size() == 4096);
  CHECK_THROWS_WITH(engine.getFile("/sandbox/past"), Catch::Contains("maxFileSize (4096 bytes)"));
  engine.stop();
}

TEST_CASE("attack: a secret written to a file does not come back unmasked", "[security][output][secrets]") {
  isol8::EngineOptions options;
  options.secrets = {{"API_TOKEN", "tok-3f9a7c1e55"}};
  options.mode = isol8::ExecutionMode::persistent;
  DockerIsol8 engine(options);
  engine.start();
  auto req = shellRequest("printf 'key=%s\\n' \"$API_TOKEN\" > /sandbox/leak.txt; cp /sandbox/leak.txt /tmp/leak2.txt");
  req.outputPaths = {"/sandbox/leak.txt", "/tmp/leak2.txt"};
  auto r = engine.execute(req);
  REQUIRE(r.exitCode == 0);
  CHECK(r.files.at("/sandbox/leak.txt") == "key=***\n");
  CHECK(r.files.at("/tmp/leak2.txt") == "key=***\n");
  CHECK(engine.getFile("/sandbox/leak.txt") == "key=***\n");
  engine.stop();
}

TEST_CASE("attack: output shaped against a long secret costs the host little CPU", "[security][output][secrets]") {
  // Eight 100 KiB secrets of 'a's, each ending in another letter, and 1 MiB of 'a's: checking
  // each secret at every position costs output × secret length × 8 (about 10^12 byte
  // compares, tens of seconds); masking must be linear in the output.
  isol8::EngineOptions options;
  for (char last = 'b'; last < 'j'; ++last) options.secrets[std::string("LONG_") + last] = std::string(100 * 1024, 'a') + last;
  DockerIsol8 engine(options);
  engine.execute(shellRequest("true"));  // the container and pool are ready
  const double before = processCpuSeconds();
  auto r = engine.execute(shellRequest("head -c 1048576 /dev/zero | tr '\\0' a"));
  const double spent = processCpuSeconds() - before;
  CHECK(r.exitCode == 0);
  CHECK(r.stdoutText.size() >= 1048576);
  INFO("host CPU for the run: " << spent << " s");
  CHECK(spent < 2.0);  // linear masking: well under 0.5 s here
}
