// ImageBuilder: builds the runtime images isol8:<runtime> (what `isol8 setup` does) and custom
// images on top of them (`isol8 build`, `isol8 list-custom`).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace isol8 {

struct ImageStatus {
  std::string runtime;
  std::string tag;
  bool built = false;  // false: it was already up to date
};

// A custom image (`isol8 build`): FROM isol8:<runtime> plus packages and/or a setup script
// that the engine runs in every new container of that image.
struct CustomImageSpec {
  std::string tag;                           // "my-python-ml:1", any name but isol8's own
  std::string runtime;                       // python, node, bun, deno, bash
  std::vector<std::string> installPackages;  // also "a,b" entries; normalized (sorted, unique)
  std::string setupScript;                   // stored in the label org.isol8.setup
};

// A local image labelled org.isol8.runtime, one entry per tag.
struct CustomImageInfo {
  std::string tag;
  std::string runtime;       // org.isol8.runtime
  std::string dependencies;  // org.isol8.dependencies: "a,b" (empty: none)
  std::string setupScript;   // org.isol8.setup (empty: none)
};

class ImageBuilder {
 public:
  // Progress lines for a person waiting on a build (build steps, downloads).
  using ProgressHandler = std::function<void(std::string_view line)>;

  explicit ImageBuilder(ProgressHandler onProgress = {});

  // Builds the images of `runtimes` (all five when empty) whose definition changed or that
  // are missing; with `force`, rebuilds them all. When the Debian base can be neither found
  // nor pulled it is bootstrapped from Debian's packages.
  boost::asio::awaitable<std::vector<ImageStatus>> asyncSetup(std::vector<std::string> runtimes, bool force);
  // Builds the image of one runtime only if it is missing (what execute needs).
  boost::asio::awaitable<void> asyncEnsure(const std::string& runtime);

  // Builds a custom image; skipped (built = false) when `spec.tag` exists with the same
  // packages and setup script (label org.isol8.deps.hash), unless `force`. The runtime's base
  // image is built first if missing; `force` rebuilds it too. Throws Error(invalid_request)
  // for an unknown runtime, a bad package name, no packages and no script, or a tag of
  // isol8's own images; Error(image_build_failed) when the build fails.
  boost::asio::awaitable<ImageStatus> asyncBuildCustom(CustomImageSpec spec, bool force);
  // Every local image labelled org.isol8.runtime, whatever its tag, sorted by tag.
  boost::asio::awaitable<std::vector<CustomImageInfo>> asyncListCustom();

  std::vector<ImageStatus> setup(std::vector<std::string> runtimes, bool force);
  ImageStatus buildCustom(CustomImageSpec spec, bool force);
  std::vector<CustomImageInfo> listCustom();

 private:
  ProgressHandler onProgress_;
};

// Throws Error(docker_unavailable) with the instructions to start Docker when none answers.
boost::asio::awaitable<void> asyncPingDocker();

}  // namespace isol8
