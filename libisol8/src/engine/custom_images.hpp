// Which image runs a request: an explicit override, a custom image that already has the
// requested packages, or the runtime's base image. (Placeholder until custom images land.)
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

boost::asio::awaitable<ResolvedImage> resolveImage(DockerClient& docker, const Runtime& runtime,
                                                   const std::string& overrideImage,
                                                   const std::vector<std::string>& packages);

}  // namespace isol8::detail
