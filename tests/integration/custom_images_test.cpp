// Custom images end to end: `isol8 build`, `isol8 list-custom`, discovery (resolveImage), and
// packages that are really usable in a container run the way the engine runs it.
#include <unistd.h>

#include <boost/json/array.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/custom_images.hpp"
#include "engine/image_labels.hpp"
#include "engine/runtimes.hpp"
#include "support.hpp"
#include "util/run_blocking.hpp"
#include "util/tar.hpp"
#include "util/text.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace isol8::detail;
using isol8::test::CommandResult;
using isol8::test::runCli;
using isol8::test::runProgram;

namespace {

// A repository name no other test (or parallel run) uses.
std::string uniqueRepo(const std::string& what) { return fmt::format("isol8-test-custom-{}-{}", what, getpid()); }

// Removes the images at the end of the test, whatever happened.
struct ImageCleanup {
  std::vector<std::string> tags;
  ~ImageCleanup() {
    for (const auto& tag : tags) {
      try {
        runBlocking([](std::string t) -> asio::awaitable<void> {
          DockerClient docker;
          co_await docker.removeImage(t, true);
        }(tag));
      } catch (const std::exception&) {
      }
    }
  }
};

std::string label(const std::string& image, const char* name) {
  return runBlocking([](std::string img, std::string key) -> asio::awaitable<std::string> {
    DockerClient docker;
    auto info = co_await docker.inspectImage(img);
    if (!info) co_return "<missing>";
    const auto& labels = info->at("Config").as_object().at("Labels");
    if (!labels.is_object() || !labels.as_object().contains(key)) co_return "<none>";
    co_return std::string(labels.as_object().at(key).as_string());
  }(image, name));
}

ResolvedImage resolve(const std::string& runtime, std::vector<std::string> packages, std::string overrideImage = {}) {
  return runBlocking([](std::string rt, std::vector<std::string> pkgs, std::string image) -> asio::awaitable<ResolvedImage> {
    DockerClient docker;
    co_return co_await resolveImage(docker, runtimeByName(rt), image, pkgs);
  }(runtime, std::move(packages), std::move(overrideImage)));
}

// A container as the engine runs one: read-only root, tmpfs /sandbox, user 100:101, and no
// network, so a package must come from the image.
CommandResult runSandboxed(const std::string& image, const std::string& script) {
  return runProgram({"docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs",
                     "/sandbox:exec,uid=100,gid=101", "--tmpfs", "/tmp", "--user", "100:101", "-w", "/sandbox", image,
                     "bash", "-c", script});
}

}  // namespace

TEST_CASE("isol8 build: node images with packages, discovery picks exact then superset", "[custom-images][cli]") {
  const auto repo = uniqueRepo("node");
  const auto exact = repo + ":exact", both = repo + ":both";
  ImageCleanup cleanup{{exact, both}};
  // Pinned versions make these package sets unique to this test on a shared engine.
  auto r = runCli({"build", "--base", "node", "--install", "is-number@7.0.0", "--tag", exact});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::StartsWith("[DONE] Custom image build complete!\n"));
  CHECK_THAT(r.out, Catch::Contains("Runtime:  node\n"));
  CHECK_THAT(r.out, Catch::Contains("Packages: is-number@7.0.0\n"));
  CHECK_THAT(r.out, Catch::Contains("Image:    " + exact + "\n"));
  r = runCli({"build", "--base", "node", "--install", " is-odd@3.0.1,is-number@7.0.0", "--install", "is-odd@3.0.1",
              "--tag", both});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::Contains("Packages: is-number@7.0.0, is-odd@3.0.1\n"));

  CHECK(label(exact, kRuntimeLabel) == "node");
  CHECK(label(exact, kDependenciesLabel) == "is-number@7.0.0");
  CHECK(label(both, kDependenciesLabel) == "is-number@7.0.0,is-odd@3.0.1");
  CHECK(label(both, kDepsHashLabel) == depsHash("node", {"is-number@7.0.0", "is-odd@3.0.1"}, ""));

  {  // discovery
    auto chosen = resolve("node", {"is-number@7.0.0"});
    CHECK(chosen.coversPackages);
    CHECK(label(chosen.image, kDependenciesLabel) == "is-number@7.0.0");  // the exact set, not the superset
    CHECK(chosen.image != both);
    chosen = resolve("node", {"is-odd@3.0.1"});
    CHECK(chosen.coversPackages);
    CHECK(label(chosen.image, kDependenciesLabel) == "is-number@7.0.0,is-odd@3.0.1");
    // Nothing holds this one, and other runtimes' images never serve node.
    chosen = resolve("node", {"is-number@7.0.0", "left-pad@1.3.0"});
    CHECK_FALSE(chosen.coversPackages);
    CHECK(chosen.image == "isol8:node");
    CHECK(resolve("python", {"is-number@7.0.0"}).image == "isol8:python");
    CHECK(resolve("node", {}).image == "isol8:node");
    // An explicit image wins; it covers packages its label lists.
    chosen = resolve("node", {"is-odd@3.0.1"}, exact);
    CHECK(chosen.image == exact);
    CHECK_FALSE(chosen.coversPackages);
    CHECK(resolve("node", {"is-number@7.0.0"}, exact).coversPackages);
  }

  {  // the packages work in a sandboxed container, for require and import
    auto run = runSandboxed(exact,
                            "node -e \"console.log(require('is-number')(5))\" && "
                            "echo \"import n from 'is-number'; console.log(n('x'))\" > /sandbox/a.mjs && "
                            "node /sandbox/a.mjs");
    INFO(run.err);
    CHECK(run.out == "true\nfalse\n");
    CHECK(run.exitCode == 0);
    run = runSandboxed(both, "cd /tmp && node -e \"console.log(require('is-odd')(3))\"");
    CHECK(run.out == "true\n");
  }

  {  // the engine runs a request with those packages in the exact image, without installing
     // (the network is off, so an install would fail)
    isol8::DockerIsol8 engine;
    isol8::ExecutionRequest req;
    req.runtime = "node";
    req.code = "console.log(require('is-number')(5))";
    req.installPackages = {"is-number@7.0.0"};
    auto result = engine.execute(req);
    CHECK(result.stdoutText == "true\n");
    auto image = isol8::test::runProgram({"docker", "inspect", "-f", "{{.Config.Image}}", result.containerId});
    CHECK(image.out == exact + "\n");
  }

  {  // building again without --force is a no-op
    r = runCli({"build", "--base", "node", "--install", "is-number@7.0.0", "--tag", exact});
    CHECK(r.exitCode == 0);
    CHECK_THAT(r.out, Catch::StartsWith("[OK] " + exact + " is up to date"));
    CHECK_THAT(r.err, !Catch::Contains("Step 1/"));
  }

  {  // list-custom shows tags, runtime and dependencies
    r = runCli({"list-custom"});
    CHECK(r.exitCode == 0);
    CHECK_THAT(r.out, Catch::Contains("\n  " + both + "\n    Runtime:      node\n"
                                      "    Dependencies: is-number@7.0.0,is-odd@3.0.1\n"));
    CHECK_THAT(r.out, Catch::Contains("\n  " + exact + "\n    Runtime:      node\n    Dependencies: is-number@7.0.0\n"));
  }
}

TEST_CASE("isol8 build: a setup script alone, from the command line and from files", "[custom-images][cli]") {
  const auto repo = uniqueRepo("bash");
  const auto tag = repo + ":setup", fromFile = repo + ":file";
  ImageCleanup cleanup{{tag, fromFile}};
  auto r = runCli({"build", "--base", "bash", "--setup", "echo hi", "--tag", tag});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::StartsWith("[DONE] Custom image build complete!\n"));
  CHECK_THAT(r.out, !Catch::Contains("Packages:"));
  CHECK_THAT(r.out, Catch::Contains("Setup:    echo hi\n"));
  CHECK(label(tag, kSetupLabel) == "echo hi");
  CHECK(label(tag, kDependenciesLabel) == "");
  CHECK(label(tag, kRuntimeLabel) == "bash");

  // The engine gets the script with the image.
  auto resolved = resolve("bash", {}, tag);
  CHECK(resolved.image == tag);
  CHECK(resolved.setupScript == "echo hi");

  isol8::test::TempDir dir;
  const auto script = dir.write("setup.sh", "echo one\necho two\n");
  r = runCli({"build", "--base", "bash", "--setup", script, "--setup", "echo three", "--tag", fromFile});
  REQUIRE(r.exitCode == 0);
  CHECK_THAT(r.out, Catch::Contains("Setup:    echo one ...\n"));
  CHECK(label(fromFile, kSetupLabel) == "echo one\necho two\necho three");

  r = runCli({"list-custom"});
  CHECK_THAT(r.out, Catch::Contains("\n  " + tag + "\n    Runtime:      bash\n    Dependencies: (none)\n"
                                    "    Setup:        echo hi\n"));
  CHECK_THAT(r.out, Catch::Contains("\n  " + fromFile + "\n    Runtime:      bash\n    Dependencies: (none)\n"
                                    "    Setup:        echo one ...\n"));

  // A changed script is a different image.
  r = runCli({"build", "--base", "bash", "--setup", "echo bye", "--tag", tag});
  CHECK_THAT(r.out, Catch::StartsWith("[DONE] Custom image build complete!\n"));
  CHECK(label(tag, kSetupLabel) == "echo bye");
}

TEST_CASE("isol8 build: bun, deno and bash packages work offline in a sandboxed container", "[custom-images][cli]") {
  const auto repo = uniqueRepo("multi");
  const auto bun = repo + ":bun", deno = repo + ":deno", bash = repo + ":bash";
  ImageCleanup cleanup{{bun, deno, bash}};
  auto r = runCli({"build", "--base", "bun", "--install", "is-odd", "--tag", bun});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  auto run = runSandboxed(bun,
                          "echo \"import o from 'is-odd'; console.log(o(3))\" > /sandbox/a.ts && bun run /sandbox/a.ts && "
                          "bun -e \"console.log(require('is-odd')(2))\"");
  INFO(run.err);
  CHECK(run.out == "true\nfalse\n");

  r = runCli({"build", "--base", "deno", "--install", "is-odd", "--tag", deno});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  run = runSandboxed(deno,
                     "echo \"import o from 'npm:is-odd'; import p from 'is-odd'; console.log(o(3), p(4))\" > /sandbox/a.mts "
                     "&& deno run --allow-read=/sandbox,/tmp --allow-write=/sandbox,/tmp --allow-env --allow-net "
                     "/sandbox/a.mts");
  INFO(run.err);
  CHECK(run.out == "true false\n");

  r = runCli({"build", "--base", "bash", "--install", "jq", "--tag", bash});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  run = runSandboxed(bash, "echo '{\"a\": 41}' | jq '.a + 1'");
  CHECK(run.out == "42\n");
}

TEST_CASE("custom python install line puts packages where the sandbox imports them", "[custom-images]") {
  // PyPI is not reachable here, so the package is a wheel built inside the build; the install
  // step is the one customDockerfile writes, with the wheel's path as the package name.
  const auto tag = uniqueRepo("python") + ":wheel";
  ImageCleanup cleanup{{tag}};
  const std::string wheel = "/tmp/w/isol8tiny-0.1-py3-none-any.whl";
  auto dockerfile = customDockerfile("python", {wheel});
  const auto from = dockerfile.find("FROM isol8:python\n");
  REQUIRE(from != std::string::npos);
  dockerfile.insert(from + std::string("FROM isol8:python\n").size(),
                    "RUN set -eux; mkdir -p /tmp/tiny/isol8tiny; "
                    "echo 'def hello(): return \"tiny ok\"' > /tmp/tiny/isol8tiny/__init__.py; "
                    "printf 'from setuptools import setup\\nsetup(name=\"isol8tiny\", version=\"0.1\", "
                    "packages=[\"isol8tiny\"])\\n' > /tmp/tiny/setup.py; "
                    "pip wheel --no-build-isolation --no-deps -w /tmp/w /tmp/tiny\n");
  runBlocking([](std::string file, std::string t) -> asio::awaitable<void> {
    DockerClient docker;
    TarWriter context;
    context.addFile("Dockerfile", file);
    const auto query = "t=" + urlEncode(t) + "&dockerfile=Dockerfile&rm=true&forcerm=true&networkmode=none";
    co_await docker.buildImage(context.finish(), query, {});
  }(dockerfile, tag));
  auto run = runSandboxed(tag, "python3 -c 'import isol8tiny; print(isol8tiny.hello())'");
  INFO(run.err);
  CHECK(run.out == "tiny ok\n");
}

TEST_CASE("isol8 build: argument errors exit 1 before Docker is asked", "[custom-images][cli]") {
  auto r = runCli({"build", "--base", "agent", "--install", "x", "--tag", "t"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] Invalid runtime: agent. Expected one of: python, node, bun, deno, bash\n");
  r = runCli({"build", "--base", "ruby", "--install", "x", "--tag", "t"});
  CHECK(r.err == "[ERR] Invalid runtime: ruby. Expected one of: python, node, bun, deno, bash\n");
  r = runCli({"build", "--base", "node", "--tag", "t"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] No packages or setup script specified. Use --install <package> or --setup <command>.\n");
  r = runCli({"build", "--base", "node", "--tag", "t", "--install", " , ", "--setup", "  "});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "[ERR] No packages or setup script specified. Use --install <package> or --setup <command>.\n");
  r = runCli({"build", "--base", "python", "--tag", "t", "--install", "numpy; rm -rf /"});
  CHECK(r.exitCode == 1);
  CHECK(r.err ==
        "[ERR] Invalid package name: \"numpy; rm -rf /\". Only alphanumeric, -, _, ., /, @, and = are allowed.\n");
  r = runCli({"build", "--base", "node", "--tag", "isol8:node", "--install", "is-number"});
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::StartsWith("[ERR] isol8:node is one of isol8's own images"));
  r = runCli({"build", "--install", "x", "--tag", "t"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "error: required option '--base <runtime>' not specified\n");
  r = runCli({"build", "--base", "node", "--install", "x"});
  CHECK(r.exitCode == 1);
  CHECK(r.err == "error: required option '--tag <name>' not specified\n");
}

TEST_CASE("isol8 build and list-custom without Docker say so and exit 1", "[custom-images][cli]") {
  ::setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock", 1);
  auto build = runCli({"build", "--base", "node", "--install", "is-number", "--tag", "t"});
  auto list = runCli({"list-custom"});
  ::unsetenv("DOCKER_HOST");
  CHECK(build.exitCode == 1);
  CHECK_THAT(build.err, Catch::StartsWith("[ERR] Docker is not running or not installed."));
  CHECK(list.exitCode == 1);
  CHECK_THAT(list.err, Catch::StartsWith("[ERR] Docker is not running or not installed."));
}
