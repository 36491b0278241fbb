// ImageBuilder: isol8:base on a Debian bookworm root, then one image per runtime on top.
// Staleness is decided by the label org.isol8.build.hash (a hash of the definitions that
// went into the image), so `setup` rebuilds exactly what changed.
#include "isol8/image_builder.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "docker/docker_client.hpp"
#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "util/process.hpp"
#include "util/run_blocking.hpp"
#include "util/tar.hpp"
#include "util/text.hpp"

namespace isol8 {

namespace detail {
std::string_view embeddedFile(std::string_view name);
}

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace detail;

namespace {

constexpr const char* kHashLabel = "org.isol8.build.hash";
constexpr const char* kBaseTag = "isol8:base";
constexpr const char* kRootfsTag = "isol8:rootfs";
constexpr const char* kPullableRoot = "debian:bookworm-slim";

std::string definition(std::string_view name) {
  auto text = embeddedFile(name);
  if (text.empty()) throw Error(errc::image_build_failed, fmt::format("image definition {} is not embedded", name));
  return std::string(text);
}

std::string labelOf(const json::object& image, const char* label) {
  auto* config = image.if_contains("Config");
  if (!config || !config->is_object()) return {};
  auto* labels = config->as_object().if_contains("Labels");
  if (!labels || !labels->is_object()) return {};
  auto* value = labels->as_object().if_contains(label);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

fs::path cacheDir() {
  if (const char* dir = std::getenv("ISOL8_CACHE_DIR"); dir && *dir) return dir;
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "isol8";
  return fs::temp_directory_path() / "isol8-cache";
}

bool cpuHasAvx2() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("flags") && line.find(" avx2") != std::string::npos) return true;
  return false;
}

struct NpmTarball {
  std::string contextName;  // file name inside the build context
  std::string spec;         // package@version
};

// docker/npm-packages.txt: "<runtime> <context-file> <package@version>" lines.
std::vector<NpmTarball> npmTarballsFor(const std::string& runtime) {
  std::string wanted = runtime;
  if (runtime == "bun" && !cpuHasAvx2()) wanted = "bun-baseline";
  std::vector<NpmTarball> out;
  std::istringstream in(definition("npm-packages.txt"));
  std::string line;
  while (std::getline(in, line)) {
    auto fields = split(trim(line), ' ');
    std::erase(fields, std::string());
    if (fields.size() != 3 || fields[0].starts_with('#')) continue;
    if (fields[0] == wanted) out.push_back({fields[1], fields[2]});
  }
  return out;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The host's CA bundle, which base.Dockerfile adds to the image's trust store (so HTTPS
// through a TLS-intercepting proxy the host trusts works in the containers too).
// ISOL8_CA_BUNDLE names another file, or "none" to add nothing; otherwise the first of
// the usual locations that exists. Empty when there is none.
std::string hostCaBundle() {
  if (const char* chosen = std::getenv("ISOL8_CA_BUNDLE"); chosen && *chosen) {
    if (std::string_view(chosen) == "none") return {};
    if (!fs::is_regular_file(chosen))
      throw Error(errc::image_build_failed, fmt::format("ISOL8_CA_BUNDLE={}: no such file", chosen));
    return readFile(chosen);
  }
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                           "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"}) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return readFile(path);
  }
  return {};
}

// Fetches a package tarball from the npm registry with the host's npm (kept in the cache).
std::string fetchNpmTarball(const NpmTarball& tarball, const ImageBuilder::ProgressHandler& progress) {
  const fs::path dir = cacheDir() / "npm" / sha256Hex(tarball.spec).substr(0, 16);
  const fs::path done = dir / "tarball.tgz";
  if (fs::exists(done)) return readFile(done);
  if (!hostProgramExists("npm"))
    throw Error(errc::image_build_failed,
                fmt::format("npm is needed to fetch {} from the npm registry; install it (apt-get install -y npm)",
                            tarball.spec));
  fs::create_directories(dir);
  if (progress) progress(fmt::format("Fetching {} from the npm registry", tarball.spec));
  auto result = runHostProcess({"npm", "pack", "--silent", "--pack-destination", dir.string(), tarball.spec}, true);
  auto name = trim(result.stdoutText);
  if (auto nl = name.rfind('\n'); nl != std::string::npos) name = name.substr(nl + 1);
  if (result.exitCode != 0 || name.empty() || !fs::exists(dir / name))
    throw Error(errc::image_build_failed, fmt::format("npm pack {} failed (exit code {})", tarball.spec, result.exitCode));
  fs::rename(dir / name, done);
  return readFile(done);
}

std::string buildQuery(const std::string& tag, const json::object& buildArgs, const std::string& hash) {
  json::object labels{{kHashLabel, hash}};
  return fmt::format("t={}&dockerfile=Dockerfile&rm=true&forcerm=true&buildargs={}&labels={}", urlEncode(tag),
                     urlEncode(json::serialize(buildArgs)), urlEncode(json::serialize(labels)));
}

class Builder {
 public:
  Builder(DockerClient& docker, const ImageBuilder::ProgressHandler& progress)
      : docker_(docker), progress_(progress), hostCa_(hostCaBundle()) {}

  void say(const std::string& line) const {
    if (progress_) progress_(line);
  }

  std::string baseHash() const {
    return sha256Hex("base.Dockerfile\n" + definition("base.Dockerfile") + "bootstrap-rootfs.sh\n" +
                     definition("bootstrap-rootfs.sh") + "host-ca.crt\n" + hostCa_);
  }

  std::string runtimeHash(const std::string& runtime) const {
    std::string material = baseHash() + runtime + ".Dockerfile\n" + definition(runtime + ".Dockerfile");
    for (const auto& t : npmTarballsFor(runtime)) material += t.contextName + " " + t.spec + "\n";
    return sha256Hex(material);
  }

  // The Debian root the base is built FROM: pulled when a registry answers, else
  // bootstrapped from Debian's packages.
  asio::awaitable<std::string> rootImage() {
    if (co_await docker_.inspectImage(kPullableRoot)) co_return kPullableRoot;
    if (co_await docker_.inspectImage(kRootfsTag)) co_return kRootfsTag;
    try {
      say(fmt::format("Pulling {}", kPullableRoot));
      co_await docker_.pullImage("debian", "bookworm-slim", {});
      co_return kPullableRoot;
    } catch (const Error& e) {
      say(fmt::format("Cannot pull {} ({}); bootstrapping a Debian root from Debian's packages", kPullableRoot,
                      trim(e.message()).substr(0, 120)));
    }
    const fs::path work = fs::temp_directory_path() / fmt::format("isol8-rootfs-{}", getpid());
    fs::create_directories(work);
    const fs::path script = work / "bootstrap-rootfs.sh", tar = work / "rootfs.tar";
    std::ofstream(script, std::ios::binary) << definition("bootstrap-rootfs.sh");
    auto result = runHostProcess({"bash", script.string(), tar.string()}, false);
    if (result.exitCode != 0) {
      fs::remove_all(work);
      throw Error(errc::image_build_failed,
                  fmt::format("bootstrapping the Debian root failed (exit code {}); the isol8-bootstrap lines above say why. "
                              "It needs debootstrap (apt-get install -y debootstrap), root, and a reachable Debian mirror.",
                              result.exitCode));
    }
    say("Importing the Debian root as " + std::string(kRootfsTag));
    std::exception_ptr failure;
    try {
      const std::vector<std::string> changes{R"(ENTRYPOINT ["/usr/bin/tini","--"])"};
      co_await docker_.importImage(tar.string(), "isol8", "rootfs", changes);
    } catch (...) {
      failure = std::current_exception();
    }
    fs::remove_all(work);
    if (failure) std::rethrow_exception(failure);
    co_return kRootfsTag;
  }

  // Builds `tag` unless it already carries `hash` (or `force`). Returns whether it built.
  asio::awaitable<bool> build(const std::string& tag, const std::string& hash, bool force, std::string dockerfile,
                              std::map<std::string, std::string> extraFiles, json::object buildArgs) {
    auto existing = co_await docker_.inspectImage(tag);
    if (existing && !force && labelOf(*existing, kHashLabel) == hash) co_return false;
    say("Building " + tag);
    TarWriter context;
    context.addFile("Dockerfile", dockerfile);
    for (const auto& [name, content] : extraFiles) context.addFile(name, content);
    co_await docker_.buildImage(context.finish(), buildQuery(tag, buildArgs, hash), [&](std::string_view line) {
      auto text = trim(line);
      if (!text.empty()) say("  " + text);
    });
    // Multi-stage builds (node) leave their intermediate stage behind with the legacy
    // builder; the Dockerfiles label such stages so they can be removed here.
    json::object stageFilter{{"label", json::array{"org.isol8.build-stage"}}, {"dangling", json::array{"true"}}};
    co_await docker_.pruneImages(stageFilter);
    // The replaced image is now untagged; remove it (best effort: a container may use it).
    if (existing) {
      auto now = co_await docker_.inspectImage(tag);
      auto oldId = std::string(existing->at("Id").as_string());
      if (now && std::string(now->at("Id").as_string()) != oldId) {
        try {
          co_await docker_.removeImage(oldId, false);
        } catch (const std::exception&) {
        }
      }
    }
    co_return true;
  }

  asio::awaitable<bool> ensureBase(bool force) {
    const auto hash = baseHash();
    if (auto existing = co_await docker_.inspectImage(kBaseTag); existing && !force && labelOf(*existing, kHashLabel) == hash)
      co_return false;
    const auto root = co_await rootImage();
    json::object args{{"ROOT_IMAGE", root}};
    std::map<std::string, std::string> files{{"host-ca.crt", hostCa_}};
    co_return co_await build(kBaseTag, hash, true, definition("base.Dockerfile"), std::move(files), std::move(args));
  }

  asio::awaitable<ImageStatus> ensureRuntime(const std::string& runtime, bool force) {
    const Runtime& rt = runtimeByName(runtime);
    const auto hash = runtimeHash(runtime);
    ImageStatus status{runtime, rt.image, false};
    auto existing = co_await docker_.inspectImage(rt.image);
    if (existing && !force && labelOf(*existing, kHashLabel) == hash) co_return status;
    std::map<std::string, std::string> files;
    for (const auto& t : npmTarballsFor(runtime)) files[t.contextName] = fetchNpmTarball(t, progress_);
    json::object args{{"BASE_IMAGE", kBaseTag}};
    status.built =
        co_await build(rt.image, hash, true, definition(runtime + ".Dockerfile"), std::move(files), std::move(args));
    co_return status;
  }

 private:
  DockerClient& docker_;
  const ImageBuilder::ProgressHandler& progress_;
  std::string hostCa_;  // the host's CA bundle (may be empty), part of the base image
};

}  // namespace

ImageBuilder::ImageBuilder(ProgressHandler onProgress) : onProgress_(std::move(onProgress)) {}

asio::awaitable<std::vector<ImageStatus>> ImageBuilder::asyncSetup(std::vector<std::string> runtimes, bool force) {
  DockerClient docker;
  co_await docker.ping();
  if (runtimes.empty()) runtimes = runtimeNames();
  for (const auto& r : runtimes) runtimeByName(r);  // unknown names fail before any work
  Builder builder(docker, onProgress_);
  co_await builder.ensureBase(force);
  std::vector<ImageStatus> statuses;
  for (const auto& r : runtimes) statuses.push_back(co_await builder.ensureRuntime(r, force));
  co_return statuses;
}

asio::awaitable<void> ImageBuilder::asyncEnsure(const std::string& runtime) {
  DockerClient docker;
  if (co_await docker.inspectImage(runtimeByName(runtime).image)) co_return;
  std::vector<std::string> only{runtime};
  co_await asyncSetup(std::move(only), false);
}

std::vector<ImageStatus> ImageBuilder::setup(std::vector<std::string> runtimes, bool force) {
  return runBlocking(asyncSetup(std::move(runtimes), force));
}

asio::awaitable<void> asyncPingDocker() {
  DockerClient docker;
  co_await docker.ping();
}

}  // namespace isol8
