// ImageBuilder: builds the runtime images isol8:<runtime> (what `isol8 setup` does).
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

  std::vector<ImageStatus> setup(std::vector<std::string> runtimes, bool force);

 private:
  ProgressHandler onProgress_;
};

// Throws Error(docker_unavailable) with the instructions to start Docker when none answers.
boost::asio::awaitable<void> asyncPingDocker();

}  // namespace isol8
