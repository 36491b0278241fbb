// Which image runs a request: an explicit override, a custom image that already has the
// requested packages (discovery by label, see image_labels.hpp), or the runtime's base image.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace isol8::detail {

class DockerClient;
struct Runtime;

struct ResolvedImage {
  std::string image;
  std::string setupScript;      // the image's org.isol8.setup label
  bool coversPackages = false;  // the image already has every requested package
};

// overrideImage non-empty: that image, its org.isol8.setup label, and coversPackages when its
// org.isol8.runtime is this runtime and its org.isol8.dependencies hold every package.
// Else, with packages: the local image labelled org.isol8.runtime=<runtime> that
// chooseCustomImage picks (coversPackages = true). Else the runtime's base image.
boost::asio::awaitable<ResolvedImage> resolveImage(DockerClient& docker, const Runtime& runtime,
                                                   const std::string& overrideImage,
                                                   const std::vector<std::string>& packages);

}  // namespace isol8::detail
