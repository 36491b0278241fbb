// Custom images on the Docker side: discovery for execute (resolveImage) and the
// ImageBuilder calls behind `isol8 build` and `isol8 list-custom`.
#include "engine/custom_images.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/image_labels.hpp"
#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "util/run_blocking.hpp"
#include "util/tar.hpp"
#include "util/text.hpp"

namespace isol8 {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace detail;

namespace {

std::string stringAt(const json::object& object, std::string_view key) {
  auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

const json::object* objectAt(const json::object& object, std::string_view key) {
  auto* value = object.if_contains(key);
  return value && value->is_object() ? &value->as_object() : nullptr;
}

// Labels of an inspected image (Config.Labels) or of a listed one (Labels).
std::string inspectedLabel(const json::object& image, const char* name) {
  auto* config = objectAt(image, "Config");
  auto* labels = config ? objectAt(*config, "Labels") : nullptr;
  return labels ? stringAt(*labels, name) : std::string();
}

std::string listedLabel(const json::object& image, const char* name) {
  auto* labels = objectAt(image, "Labels");
  return labels ? stringAt(*labels, name) : std::string();
}

std::vector<std::string> repoTagsOf(const json::object& image) {
  std::vector<std::string> tags;
  auto* value = image.if_contains("RepoTags");
  if (!value || !value->is_array()) return tags;
  for (const auto& t : value->as_array())
    if (t.is_string() && t.as_string() != "<none>:<none>") tags.emplace_back(t.as_string());
  return tags;
}

bool isOwnImageTag(const std::string& tag) {
  if (tag == "isol8:base" || tag == "isol8:rootfs") return true;
  for (const auto& name : runtimeNames())
    if (runtimeByName(name).image == tag) return true;
  return false;
}

// One candidate per tag of every local image labelled org.isol8.runtime (=runtime when given).
asio::awaitable<std::vector<ImageCandidate>> listCandidates(DockerClient& docker, const std::string& runtime) {
  const std::string filter = runtime.empty() ? std::string(kRuntimeLabel) : std::string(kRuntimeLabel) + "=" + runtime;
  json::object filters;
  filters["label"] = json::array{json::value(filter)};
  const json::array images = co_await docker.listImages(filters);
  std::vector<ImageCandidate> out;
  for (const auto& value : images) {
    if (!value.is_object()) continue;
    const auto& image = value.as_object();
    for (auto& tag : repoTagsOf(image)) {
      if (isOwnImageTag(tag)) continue;
      out.push_back({std::move(tag), listedLabel(image, kRuntimeLabel), listedLabel(image, kDependenciesLabel),
                     listedLabel(image, kSetupLabel)});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
  co_return out;
}

}  // namespace

namespace detail {

asio::awaitable<ResolvedImage> resolveImage(DockerClient& docker, const Runtime& runtime,
                                            const std::string& overrideImage,
                                            const std::vector<std::string>& packages) {
  const auto wanted = normalizePackages(packages);
  if (!overrideImage.empty()) {
    ResolvedImage resolved{overrideImage, {}, false};
    if (auto image = co_await docker.inspectImage(overrideImage)) {
      resolved.setupScript = inspectedLabel(*image, kSetupLabel);
      const auto have = normalizePackages({inspectedLabel(*image, kDependenciesLabel)});
      resolved.coversPackages = !wanted.empty() && inspectedLabel(*image, kRuntimeLabel) == runtime.name &&
                                std::includes(have.begin(), have.end(), wanted.begin(), wanted.end());
    }
    co_return resolved;
  }
  if (!wanted.empty()) {
    const auto candidates = co_await listCandidates(docker, runtime.name);
    if (auto chosen = chooseCustomImage(candidates, runtime.name, wanted))
      co_return ResolvedImage{chosen->tag, chosen->setupScript, true};
  }
  co_return ResolvedImage{runtime.image, {}, false};
}

}  // namespace detail

asio::awaitable<ImageStatus> ImageBuilder::asyncBuildCustom(CustomImageSpec spec, bool force) {
  const Runtime& runtime = runtimeByName(spec.runtime);
  const auto packages = normalizePackages(spec.installPackages);
  validateCustomPackages(packages);
  std::string setup = trim(spec.setupScript).empty() ? std::string() : spec.setupScript;
  if (packages.empty() && setup.empty())
    throw Error(errc::invalid_request, "No packages or setup script specified for the custom image.");
  const std::string tag = trim(spec.tag);
  if (tag.empty()) throw Error(errc::invalid_request, "A custom image needs a tag.");
  if (isOwnImageTag(tag))
    throw Error(errc::invalid_request,
                fmt::format("{} is one of isol8's own images; choose another tag for a custom image.", tag));

  DockerClient docker;
  co_await docker.ping();
  // The base runtime image first: built when missing, rebuilt with force.
  if (force) {
    std::vector<std::string> only{runtime.name};
    co_await asyncSetup(std::move(only), true);
  } else {
    co_await asyncEnsure(runtime.name);
  }

  const auto labels = customImageLabels(runtime.name, packages, setup);
  const std::string& hash = labels.at(kDepsHashLabel);
  ImageStatus status{runtime.name, tag, false};
  auto existing = co_await docker.inspectImage(tag);
  if (existing && !force && inspectedLabel(*existing, kDepsHashLabel) == hash) co_return status;

  if (onProgress_) onProgress_(fmt::format("Building {}", tag));
  TarWriter context;
  context.addFile("Dockerfile", customDockerfile(runtime.name, packages));
  json::object labelJson;
  for (const auto& [k, v] : labels) labelJson[k] = v;
  // force: no layer cache either, so packages are fetched again (newer versions, a fixed mirror).
  const std::string query =
      fmt::format("t={}&dockerfile=Dockerfile&rm=true&forcerm=true&nocache={}&labels={}", urlEncode(tag),
                  force ? "true" : "false", urlEncode(json::serialize(labelJson)));
  const auto progress = onProgress_;
  try {
    co_await docker.buildImage(context.finish(), query, [progress](std::string_view line) {
      auto text = trim(line);
      if (progress && !text.empty()) progress("  " + text);
    });
  } catch (const DockerApiError& e) {
    throw Error(errc::image_build_failed, fmt::format("Building custom image {} failed: {}", tag, trim(e.message())));
  } catch (const Error& e) {
    if (e.code() != make_error_code(errc::image_build_failed)) throw;
    throw Error(errc::image_build_failed, fmt::format("Building custom image {} failed: {}", tag, trim(e.message())));
  }
  status.built = true;
  // The image the tag pointed at before is now untagged: remove it (best effort: a
  // container may still use it).
  if (existing) {
    auto now = co_await docker.inspectImage(tag);
    const std::string oldId = stringAt(*existing, "Id");
    if (now && !oldId.empty() && stringAt(*now, "Id") != oldId) {
      try {
        co_await docker.removeImage(oldId, false);
      } catch (const std::exception&) {
      }
    }
  }
  co_return status;
}

asio::awaitable<std::vector<CustomImageInfo>> ImageBuilder::asyncListCustom() {
  DockerClient docker;
  co_await docker.ping();
  const std::string anyRuntime;
  const auto candidates = co_await listCandidates(docker, anyRuntime);
  std::vector<CustomImageInfo> out;
  out.reserve(candidates.size());
  for (const auto& c : candidates) out.push_back({c.tag, c.runtime, c.dependencies, c.setupScript});
  co_return out;
}

ImageStatus ImageBuilder::buildCustom(CustomImageSpec spec, bool force) {
  return runBlocking(asyncBuildCustom(std::move(spec), force));
}

std::vector<CustomImageInfo> ImageBuilder::listCustom() { return runBlocking(asyncListCustom()); }

}  // namespace isol8
