#include "isol8/error.hpp"

namespace isol8 {
namespace {
class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "isol8"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_request: return "invalid request";
      case errc::docker_unavailable: return "Docker is not available";
      case errc::docker_error: return "Docker engine error";
      case errc::image_missing: return "runtime image missing";
      case errc::image_build_failed: return "image build failed";
      case errc::not_supported: return "not supported";
      case errc::io_error: return "I/O error";
      case errc::setup_failed: return "setup failed";
      case errc::cancelled: return "cancelled";
      case errc::no_container: return "no active container";
      case errc::server_error: return "isol8 server error";
      case errc::container_gone: return "container gone";
    }
    return "unknown isol8 error";
  }
};
}  // namespace

const std::error_category& category() {
  static const Category instance;
  return instance;
}
}  // namespace isol8
