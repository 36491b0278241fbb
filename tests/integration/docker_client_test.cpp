// The Docker Engine API client on its own, against the real engine.
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/json/array.hpp>
#include <catch2/catch.hpp>

#include "docker/docker_client.hpp"
#include "engine/container_spec.hpp"
#include "util/run_blocking.hpp"
#include "util/tar.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace isol8::detail;

namespace {
asio::awaitable<void> lifecycle() {
  DockerClient docker;
  co_await docker.ping();
  auto version = co_await docker.version();
  CHECK(version.contains("ApiVersion"));
  CHECK(co_await docker.inspectImage("isol8:bash"));
  CHECK_FALSE(co_await docker.inspectImage("isol8:no-such-image"));

  const auto since = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() - 1;
  json::object spec{{"Image", "isol8:bash"}, {"Cmd", json::array{"sh", "-c", "exit 7"}},
                    {"Labels", json::object{{"isol8.test", "docker-client"}}}};
  auto id = co_await docker.createContainer(spec);
  co_await docker.startContainer(id);
  CHECK(co_await docker.waitContainer(id) == 7);
  auto inspected = co_await docker.inspectContainer(id);
  CHECK(inspected.at("State").as_object().at("ExitCode").as_int64() == 7);

  const auto until = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() + 1;
  std::vector<std::string> actions;
  json::object filters{{"container", json::array{id}}};
  co_await docker.events(filters, since, until, [&](const json::object& e) {
    actions.emplace_back(e.at("Action").as_string());
  });
  CHECK(actions == std::vector<std::string>{"create", "start", "die"});
  co_await docker.removeContainer(id);
  co_await docker.removeContainer(id);  // already gone: not an error
  CHECK_THROWS_AS(co_await docker.inspectContainer(id), DockerApiError);
}

asio::awaitable<void> archives() {
  DockerClient docker;
  json::object spec{{"Image", "isol8:bash"}, {"Cmd", json::array{"sleep", "infinity"}}};
  auto id = co_await docker.createContainer(spec);
  co_await docker.startContainer(id);
  TarWriter tar;
  tar.addFile("hello.txt", std::string("bin\0ary\n", 8));
  co_await docker.putArchive(id, "/tmp", tar.finish());
  auto files = readTarFiles(co_await docker.getArchive(id, "/tmp/hello.txt"));
  CHECK(files.at("hello.txt") == std::string("bin\0ary\n", 8));
  co_await docker.killContainer(id);
  co_await docker.removeContainer(id);
}
}  // namespace

TEST_CASE("docker client: ping, images, container lifecycle, wait and events", "[docker]") {
  runBlocking(lifecycle());
}

TEST_CASE("docker client: archives in and out of a container", "[docker]") { runBlocking(archives()); }
