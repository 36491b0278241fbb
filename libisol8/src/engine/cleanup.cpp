// What counts as isol8's on a Docker engine, and its removal. Matching is by label first
// (every container this project creates carries isol8.managed=true, whatever its image), then
// by image name (isol8:*, isol8-custom:*) for containers of the original or of `docker run`.
// Image ids are deliberately not matched: a `docker build` step running from an isol8 base
// image shows up as a container of that id and must not be killed mid-build.
#include "isol8/cleanup.hpp"

#include <algorithm>
#include <exception>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/owner_lock.hpp"
#include "util/run_blocking.hpp"

namespace isol8 {

namespace asio = boost::asio;
namespace json = boost::json;
using detail::DockerClient;
using detail::runBlocking;

namespace {

constexpr std::string_view kManagedLabel = "isol8.managed";
constexpr std::string_view kCustomImageLabel = "org.isol8.runtime";

bool isIsol8ImageName(std::string_view image) { return image.starts_with("isol8:") || image.starts_with("isol8-custom:"); }

std::string stringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return (v && v->is_string()) ? std::string(v->get_string()) : std::string();
}

std::int64_t intField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return (v && v->is_number()) ? v->to_number<std::int64_t>() : 0;
}

const json::string* labelOf(const json::object& o, std::string_view label) {
  const auto* labels = o.if_contains("Labels");
  if (!labels || !labels->is_object()) return nullptr;
  const auto* v = labels->get_object().if_contains(label);
  return (v && v->is_string()) ? &v->get_string() : nullptr;
}

bool hasLabel(const json::object& o, std::string_view label, std::string_view value = {}) {
  const auto* v = labelOf(o, label);
  return v && (value.empty() || *v == value);
}

std::string labelValue(const json::object& o, std::string_view label) {
  const auto* v = labelOf(o, label);
  return v ? std::string(*v) : std::string();
}

std::string shortId(std::string id) {
  if (id.starts_with("sha256:")) id.erase(0, 7);
  return id.substr(0, 12);
}

std::string errorText(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  }
}

asio::awaitable<std::vector<Isol8Container>> listContainersWith(DockerClient& docker, bool includeLiveOwners) {
  const json::object noFilter;
  const json::array all = co_await docker.listContainers(noFilter, true);
  std::vector<Isol8Container> found;
  for (const auto& item : all) {
    if (!item.is_object()) continue;
    const auto& c = item.get_object();
    Isol8Container container{stringField(c, "Id"), stringField(c, "Image"), stringField(c, "State"), intField(c, "Created"),
                             labelValue(c, "isol8.engine"), labelValue(c, detail::kOwnerLabel)};
    if (!hasLabel(c, kManagedLabel, "true") && !isIsol8ImageName(container.image)) continue;
    if (!includeLiveOwners && !container.owner.empty() && detail::ownerAlive(container.owner)) continue;
    found.push_back(std::move(container));
  }
  co_return found;
}

asio::awaitable<std::vector<Isol8Image>> listImagesWith(DockerClient& docker) {
  const json::object noFilter;
  const json::array all = co_await docker.listImages(noFilter);
  std::vector<Isol8Image> found;
  for (const auto& item : all) {
    if (!item.is_object()) continue;
    const auto& i = item.get_object();
    Isol8Image image{stringField(i, "Id"), {}, intField(i, "Created"), hasLabel(i, kCustomImageLabel)};
    if (const auto* tags = i.if_contains("RepoTags"); tags && tags->is_array())
      for (const auto& tag : tags->get_array())
        if (tag.is_string() && tag.get_string() != "<none>:<none>") image.tags.emplace_back(tag.get_string());
    const bool tagged = std::any_of(image.tags.begin(), image.tags.end(), [](const std::string& t) { return t.starts_with("isol8:"); });
    if (tagged || image.custom) found.push_back(std::move(image));
  }
  co_return found;
}

asio::awaitable<CleanupReport> removeContainersWith(DockerClient& docker, const std::vector<Isol8Container>& containers) {
  CleanupReport report;
  for (const auto& container : containers) {
    std::exception_ptr failure;
    try {
      co_await docker.removeContainer(container.id);  // force: running ones too
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      ++report.failed;
      report.errors.push_back(fmt::format("{}: {}", shortId(container.id), errorText(failure)));
    } else {
      ++report.removed;
    }
  }
  co_return report;
}

asio::awaitable<CleanupReport> removeImagesWith(DockerClient& docker, const std::vector<Isol8Image>& images) {
  CleanupReport report;
  for (const auto& image : images) {
    // A custom image goes whole (by id); of any other image only the isol8:* tags are removed,
    // so a tag someone else put on the same image survives (the image goes with its last tag).
    std::vector<std::string> names;
    if (image.custom) {
      names.push_back(image.id);
    } else {
      for (const auto& tag : image.tags)
        if (tag.starts_with("isol8:")) names.push_back(tag);
    }
    std::string firstError;
    for (const auto& name : names) {
      std::exception_ptr failure;
      try {
        co_await docker.removeImage(name, true);
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure && firstError.empty()) {
        const std::string shown = image.custom ? (image.tags.empty() ? shortId(image.id) : image.tags.front()) : name;
        firstError = fmt::format("{}: {}", shown, errorText(failure));
      }
    }
    if (firstError.empty()) {
      ++report.removed;
    } else {
      ++report.failed;
      report.errors.push_back(std::move(firstError));
    }
  }
  co_return report;
}

}  // namespace

asio::awaitable<std::vector<Isol8Container>> asyncListIsol8Containers(bool includeLiveOwners) {
  DockerClient docker;
  co_return co_await listContainersWith(docker, includeLiveOwners);
}

asio::awaitable<std::vector<Isol8Image>> asyncListIsol8Images() {
  DockerClient docker;
  co_return co_await listImagesWith(docker);
}

asio::awaitable<CleanupReport> asyncCleanupContainers() {
  DockerClient docker;
  const auto containers = co_await listContainersWith(docker, false);
  co_return co_await removeContainersWith(docker, containers);
}

asio::awaitable<CleanupReport> asyncCleanupImages() {
  DockerClient docker;
  const auto images = co_await listImagesWith(docker);
  co_return co_await removeImagesWith(docker, images);
}

asio::awaitable<CleanupReport> asyncRemoveContainers(std::vector<Isol8Container> containers) {
  DockerClient docker;
  co_return co_await removeContainersWith(docker, containers);
}

asio::awaitable<CleanupReport> asyncRemoveImages(std::vector<Isol8Image> images) {
  DockerClient docker;
  co_return co_await removeImagesWith(docker, images);
}

std::vector<Isol8Container> listIsol8Containers(bool includeLiveOwners) {
  return runBlocking(asyncListIsol8Containers(includeLiveOwners));
}
std::vector<Isol8Image> listIsol8Images() { return runBlocking(asyncListIsol8Images()); }
CleanupReport cleanupContainers() { return runBlocking(asyncCleanupContainers()); }
CleanupReport cleanupImages() { return runBlocking(asyncCleanupImages()); }
CleanupReport removeContainers(std::vector<Isol8Container> containers) {
  return runBlocking(asyncRemoveContainers(std::move(containers)));
}
CleanupReport removeImages(std::vector<Isol8Image> images) { return runBlocking(asyncRemoveImages(std::move(images))); }

}  // namespace isol8
