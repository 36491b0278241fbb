#include "server/sweep.hpp"

#include <algorithm>
#include <filesystem>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/owner_lock.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace json = boost::json;

std::string serverOwner(const std::string& configSource, const std::string& bindAddress, int port) {
  std::error_code ec;
  const auto where = configSource.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(configSource, ec);
  return "server-" + detail::sha256Hex(fmt::format("{}\n{}\n{}", where.string(), bindAddress, port)).substr(0, 16);
}

boost::asio::awaitable<int> sweepLeftovers(std::string owner, std::vector<std::string> liveEngines,
                                           std::chrono::milliseconds timeout, detail::Logger log) {
  detail::DockerClient docker(detail::DockerEndpoint::fromEnvironment(), timeout);
  const json::object filters{{"label", json::array{fmt::format("{}={}", detail::kOwnerLabel, owner)}}};
  const json::array containers = co_await docker.listContainers(filters, true);
  int removed = 0;
  for (const auto& item : containers) {
    const auto& c = item.as_object();
    const std::string id(c.at("Id").as_string());
    std::string engine;
    if (const auto* labels = c.if_contains("Labels"); labels && labels->is_object())
      if (const auto* value = labels->as_object().if_contains("isol8.engine"); value && value->is_string())
        engine = value->as_string();
    if (std::find(liveEngines.begin(), liveEngines.end(), engine) != liveEngines.end()) continue;
    co_await docker.removeContainer(id);
    log.debug("swept leftover container {} (engine {})", id.substr(0, 12), engine);
    ++removed;
  }
  co_return removed;
}

}  // namespace isol8::server
