// isol8 cleanup: finds isol8's containers by label and by image name, leaves other containers
// alone, asks before removing. Runs alone (RUN_SERIAL): `cleanup --force` removes every isol8
// container on the engine, so it first requires that there are none besides its own.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::test::runCli;
using isol8::test::runProgram;

namespace {

constexpr const char* kForeignImage = "not-isol8-test:latest";

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

bool containerExists(const std::string& id) { return runProgram({"docker", "inspect", "--type", "container", id}).exitCode == 0; }

// Containers `isol8 cleanup` would count: labelled isol8.managed=true or from an isol8:* image.
std::vector<std::string> isol8Containers() {
  auto ids = isol8::test::containersWithLabel("isol8.managed=true");
  std::istringstream all(runProgram({"docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Image}}"}).out);
  for (std::string id, image; all >> id >> image;)
    if ((image.starts_with("isol8:") || image.starts_with("isol8-custom:")) && std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(id);
  return ids;
}

// Right before a removal: the isol8 containers on the engine are exactly the test's own, so
// `cleanup` cannot hit a container of someone else's run.
void requireOnly(std::vector<std::string> expected) {
  auto actual = isol8Containers();
  std::sort(actual.begin(), actual.end());
  std::sort(expected.begin(), expected.end());
  REQUIRE(actual == expected);
}

// Containers and a tag made for one test, removed at its end whatever happens.
struct Fixture {
  std::vector<std::string> containers;
  Fixture() { REQUIRE(runProgram({"docker", "tag", "isol8:bash", kForeignImage}).exitCode == 0); }
  ~Fixture() {
    for (const auto& id : containers) runProgram({"docker", "rm", "-f", id});
    runProgram({"docker", "rmi", kForeignImage});  // only the tag: isol8:bash keeps the image
  }
  std::string start(std::vector<std::string> args) {
    args.insert(args.begin(), {"docker", "run", "-d", "--network", "none"});  // needs no network (docker0 may be absent)
    args.insert(args.end(), {"sleep", "infinity"});
    const auto r = runProgram(args);
    REQUIRE(r.exitCode == 0);
    containers.push_back(firstLine(r.out));
    return containers.back();
  }
};

}  // namespace

TEST_CASE("cleanup --force removes labelled and isol8-image containers, and nothing else", "[cli][cleanup]") {
  REQUIRE(isol8Containers().empty());
  Fixture f;
  const auto labelled = f.start({"--label", "isol8.managed=true", kForeignImage});  // found by its label
  const auto byImage = f.start({"isol8:bash"});                                     // found by its image name
  const auto foreign = f.start({kForeignImage});                                    // not isol8's

  requireOnly({labelled, byImage});
  const auto r = runCli({"cleanup", "--force"});
  CHECK(r.exitCode == 0);
  CHECK(r.out.find(labelled.substr(0, 12)) != std::string::npos);
  CHECK(r.out.find(byImage.substr(0, 12)) != std::string::npos);
  CHECK(r.out.find(foreign.substr(0, 12)) == std::string::npos);
  CHECK(r.out.find("Removed 2 container(s)\n") != std::string::npos);
  CHECK(r.out.find("Remove all these containers?") == std::string::npos);
  CHECK_FALSE(containerExists(labelled));
  CHECK_FALSE(containerExists(byImage));
  CHECK(containerExists(foreign));

  const auto again = runCli({"cleanup", "--force"});
  CHECK(again.exitCode == 0);
  CHECK(again.out == "No isol8 containers found\n");
}

TEST_CASE("cleanup asks first: n cancels, y removes", "[cli][cleanup]") {
  REQUIRE(isol8Containers().empty());
  Fixture f;
  const auto labelled = f.start({"--label", "isol8.managed=true", "isol8:bash"});

  const auto no = runCli({"cleanup"}, std::string("n\n"));
  CHECK(no.exitCode == 0);
  CHECK(no.out.find("Found 1 isol8 container(s):") != std::string::npos);
  CHECK(no.out.find(labelled.substr(0, 12)) != std::string::npos);
  CHECK(no.out.find("running") != std::string::npos);
  CHECK(no.out.find("Remove all these containers? [y/N] ") != std::string::npos);
  CHECK(no.out.find("Cleanup cancelled\n") != std::string::npos);
  CHECK(containerExists(labelled));

  // With --images the question names the images, which are listed too (and kept: answer no).
  const auto noImages = runCli({"cleanup", "--images"}, std::string("no\n"));
  CHECK(noImages.out.find("Remove all these containers and images? [y/N] ") != std::string::npos);
  CHECK(noImages.out.find("isol8:bash") != std::string::npos);
  CHECK(noImages.out.find("Cleanup cancelled\n") != std::string::npos);
  CHECK(runProgram({"docker", "image", "inspect", "isol8:bash"}).exitCode == 0);

  const auto empty = runCli({"cleanup"}, std::string(""));  // end of input declines
  CHECK(empty.out.find("Cleanup cancelled\n") != std::string::npos);
  CHECK(containerExists(labelled));

  requireOnly({labelled});
  const auto yes = runCli({"cleanup"}, std::string("y\n"));
  CHECK(yes.exitCode == 0);
  CHECK(yes.out.find("Removed 1 container(s)\n") != std::string::npos);
  CHECK_FALSE(containerExists(labelled));
}

TEST_CASE("cleanup without a Docker engine is an [ERR], exit 1", "[cli][cleanup]") {
  const auto r = runProgram({"env", "DOCKER_HOST=unix:///nonexistent/docker.sock", ISOL8_CLI_PATH, "cleanup", "--force"});
  CHECK(r.exitCode == 1);
  CHECK(r.err.starts_with("[ERR] Docker is not running or not installed."));
}
