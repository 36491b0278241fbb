#include "engine/custom_images.hpp"

#include "docker/docker_client.hpp"
#include "engine/runtimes.hpp"

namespace isol8::detail {

boost::asio::awaitable<ResolvedImage> resolveImage(DockerClient&, const Runtime& runtime,
                                                   const std::string& overrideImage, const std::vector<std::string>&) {
  co_return ResolvedImage{overrideImage.empty() ? runtime.image : overrideImage, {}, false};
}

}  // namespace isol8::detail
