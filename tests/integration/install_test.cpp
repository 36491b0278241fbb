// Runtime package installs (installPackages): the package manager runs as the sandbox user
// inside the container, before the code, and the code then uses what it installed.
// PyPI is not reachable here, so the python tests build a tiny wheel and serve their own
// PEP 503 index on loopback (network host); node/bun/deno use the npm registry.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "isol8/error.hpp"
#include "support.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::NetworkMode;
using isol8::StreamEvent;
using isol8::test::BackgroundProcess;
using isol8::test::containersWithLabel;
using isol8::test::TempDir;

namespace {

// Writes <root>/simple/<name>/index.html and the wheel it links to. A wheel is a zip with
// the package and a .dist-info directory (METADATA, WHEEL, RECORD with sha256 hashes).
constexpr const char* kMakeIndex = R"PY(
import base64, hashlib, os, sys, zipfile
root, dist, version, module = sys.argv[1:5]
files = {
    f"{module}/__init__.py": f"__version__ = {version!r}\ndef greet(who):\n    return 'hello ' + who\n",
    f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
    f"{dist}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: isol8-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = f"{dist}-{version}.dist-info/RECORD"
lines = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    lines.append(f"{name},sha256={digest},{len(text.encode())}")
lines.append(f"{record},,")
files[record] = "\n".join(lines) + "\n"
project = dist.lower().replace("_", "-")
folder = os.path.join(root, "simple", project)
os.makedirs(folder)
wheel = f"{dist}-{version}-py3-none-any.whl"
with zipfile.ZipFile(os.path.join(folder, wheel), "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
with open(os.path.join(folder, "index.html"), "w") as f:
    f.write(f'<!DOCTYPE html>\n<html><body><a href="{wheel}">{wheel}</a></body></html>\n')
)PY";

// A package index with one wheel (isol8-probe-pkg 1.2.3, module isol8_probe), served by
// python's http.server on 127.0.0.1 for the length of a test.
struct LocalPackageIndex {
  TempDir dir;
  int port = isol8::test::freeLoopbackPort();
  std::unique_ptr<BackgroundProcess> server;

  LocalPackageIndex() {
    const auto script = dir.write("make_index.py", kMakeIndex);
    const auto made =
        isol8::test::runProgram({"python3", script, dir.path + "/www", "isol8_probe_pkg", "1.2.3", "isol8_probe"});
    REQUIRE(made.exitCode == 0);
    server = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        "python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(port), "--directory", dir.path + "/www"});
    REQUIRE(isol8::test::waitForPort(port));
  }
  // pip reads $HOME/.config/pip/pip.conf; HOME is /sandbox.
  std::map<std::string, std::string> pipConf() const {
    return {{"/sandbox/.config/pip/pip.conf",
             "[global]\nindex-url = http://127.0.0.1:" + std::to_string(port) + "/simple/\n"}};
  }
  // The index was asked for the wheel (it logs each request on stderr).
  bool served() const { return server->output().find("isol8_probe_pkg-1.2.3-py3-none-any.whl") != std::string::npos; }
};

EngineOptions hostNetwork() {
  EngineOptions options;
  options.network = NetworkMode::host;
  options.timeoutMs = 120000;
  return options;
}

ExecutionRequest probeRequest() {
  ExecutionRequest req;
  req.runtime = "python";
  req.installPackages = {"isol8-probe-pkg"};
  req.code = "import isol8_probe; print(isol8_probe.__version__, isol8_probe.greet('sandbox'), isol8_probe.__file__)";
  return req;
}

}  // namespace

TEST_CASE("python: installPackages installs from the index pip is pointed at", "[install][python]") {
  LocalPackageIndex index;
  DockerIsol8 engine(hostNetwork());
  auto req = probeRequest();
  req.files = index.pipConf();
  auto r = engine.execute(req);
  INFO(r.stderrText);
  CHECK(r.exitCode == 0);
  // Installed as the sandbox user into its own site-packages under /sandbox.
  CHECK(r.stdoutText == "1.2.3 hello sandbox /sandbox/.local/lib/python3.11/site-packages/isol8_probe/__init__.py\n");
  CHECK(index.served());
}

TEST_CASE("python: without the index the install fails and the code never runs", "[install][python][errors]") {
  LocalPackageIndex index;  // running, but nothing points pip at it
  DockerIsol8 engine(hostNetwork());
  auto req = probeRequest();
  try {
    engine.execute(req);
    FAIL("execute should have thrown");
  } catch (const isol8::Error& e) {
    CHECK(e.code() == isol8::errc::setup_failed);
    CHECK_THAT(e.message(), Catch::Matches(R"(Package install failed \(exit code [1-9][0-9]*\): [\s\S]*)"));
    CHECK_THAT(e.message(), Catch::Contains("isol8-probe-pkg"));
  }
  CHECK_FALSE(index.served());
}

TEST_CASE("python: a streamed install shows setup-phase output before the code's", "[install][python][stream]") {
  LocalPackageIndex index;
  DockerIsol8 engine(hostNetwork());
  auto req = probeRequest();
  req.files = index.pipConf();
  req.code = "import isol8_probe; print('version', isol8_probe.__version__)";
  std::vector<StreamEvent> events;
  for (const StreamEvent& e : engine.executeStream(req)) events.push_back(e);
  REQUIRE(events.size() >= 3);
  const auto firstCode = std::find_if(events.begin(), events.end(),
                                      [](const StreamEvent& e) { return e.phase == StreamEvent::Phase::code; });
  REQUIRE(firstCode != events.begin());
  REQUIRE(firstCode != events.end());
  // Everything before the first code event is setup; nothing after it is.
  std::string setupOut;
  for (auto it = events.begin(); it != firstCode; ++it) {
    CHECK(it->type != StreamEvent::Type::error);
    if (it->type == StreamEvent::Type::stdout_data) setupOut += it->data;
  }
  CHECK_THAT(setupOut, Catch::Contains("isol8-probe-pkg") && Catch::Contains("Successfully installed"));
  std::string codeOut;
  for (auto it = firstCode; it != events.end(); ++it) {
    CHECK(it->phase == StreamEvent::Phase::code);
    if (it->type == StreamEvent::Type::stdout_data) codeOut += it->data;
  }
  CHECK(codeOut == "version 1.2.3\n");
  CHECK(events.back().type == StreamEvent::Type::exit);
  CHECK(events.back().data == "0");
}

// The npm registry is reached over HTTPS; the images trust the host's CA bundle for that.
TEST_CASE("node: installPackages installs from the npm registry", "[install][node]") {
  DockerIsol8 engine(hostNetwork());
  ExecutionRequest req;
  req.runtime = "node";
  req.installPackages = {"is-number"};
  req.code = "const isNumber = require('is-number'); console.log(isNumber(5), isNumber('x'), require.resolve('is-number'))";
  auto r = engine.execute(req);
  INFO(r.stderrText);
  CHECK(r.exitCode == 0);
  CHECK(r.stdoutText == "true false /sandbox/node_modules/is-number/index.js\n");
}

TEST_CASE("bun: installPackages installs globally and the code imports it", "[install][bun]") {
  DockerIsol8 engine(hostNetwork());
  ExecutionRequest req;
  req.runtime = "bun";
  req.installPackages = {"is-number"};
  req.code = "import isNumber from 'is-number'; console.log(isNumber(5), isNumber('x'), import.meta.resolve('is-number'))";
  auto r = engine.execute(req);
  INFO(r.stderrText);
  CHECK(r.exitCode == 0);
  // Found in the global install (NODE_PATH), not fetched again by bun's auto-install.
  CHECK_THAT(r.stdoutText, Catch::StartsWith("true false file:///sandbox/.bun-global/node_modules/is-number/"));
}

TEST_CASE("deno: installPackages caches an npm package the code then imports", "[install][deno]") {
  DockerIsol8 engine(hostNetwork());
  ExecutionRequest req;
  req.runtime = "deno";
  req.installPackages = {"is-number"};
  req.code = "import isNumber from 'npm:is-number'; console.log(isNumber(5), isNumber('x'))";
  auto r = engine.execute(req);
  INFO(r.stderrText);
  CHECK(r.exitCode == 0);
  CHECK(r.stdoutText == "true false\n");
}

TEST_CASE("bad installs are refused before any container is made", "[install][errors]") {
  DockerIsol8 engine(hostNetwork());
  ExecutionRequest req;
  req.runtime = "python";
  req.code = "print(1)";
  req.installPackages = {"numpy; rm -rf /"};
  CHECK_THROWS_WITH(engine.execute(req),
                    "Invalid package name: \"numpy; rm -rf /\". Only alphanumeric, -, _, ., /, @, and = are allowed.");
  // A stream reports the same refusal as its events.
  std::vector<StreamEvent> events;
  for (const StreamEvent& e : engine.executeStream(req)) events.push_back(e);
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == StreamEvent::Type::error);
  CHECK_THAT(events[0].data, Catch::StartsWith("Invalid package name: "));
  CHECK(events[1].type == StreamEvent::Type::exit);
  CHECK(containersWithLabel("isol8.engine=" + engine.engineId()).empty());

  ExecutionRequest bash;
  bash.runtime = "bash";
  bash.cmd = "jq --version";
  bash.installPackages = {"jq"};
  try {
    engine.execute(bash);
    FAIL("execute should have thrown");
  } catch (const isol8::Error& e) {
    CHECK(e.code() == isol8::errc::not_supported);
    CHECK_THAT(e.message(), Catch::Contains("isol8 build --base bash --install <package> --tag <name>"));
  }
}
