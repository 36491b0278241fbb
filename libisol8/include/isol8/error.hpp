// Errors: an error code to branch on plus a message to show a person.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace isol8 {

enum class errc {
  invalid_request = 1,   // the request or an option is malformed (a user error)
  docker_unavailable,    // no Docker engine answers
  docker_error,          // the engine answered with an error
  image_missing,         // the runtime image is not there and could not be built
  image_build_failed,
  not_supported,         // the feature is not available (yet) in this engine
  io_error,
  setup_failed,          // a package install or setup script failed (the user's setup, not isol8)
  cancelled,             // the run was stopped (stream abandoned, engine stopped)
  no_container,          // putFile/getFile without a persistent container
  server_error,          // an isol8 server (RemoteIsol8) refused or failed a request
  container_gone,        // the persistent container died or was removed outside isol8 (its files are lost)
};

const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

class Error : public std::system_error {
 public:
  Error(errc code, const std::string& message) : std::system_error(make_error_code(code), message), message_(message) {}
  // The readable message alone, without the category prefix std::system_error adds.
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace isol8

template <>
struct std::is_error_code_enum<isol8::errc> : std::true_type {};
