// Attacks through what a run sends back: file names and sizes the code controls, secrets in
// files, output sized to exhaust the host. Each case is a real program run through isol8 with
// an assertion that the host side held.
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
