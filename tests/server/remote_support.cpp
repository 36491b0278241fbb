#include "remote_support.hpp"

#include <stdexcept>

namespace isol8::test {

std::string serverBinary() { return ISOL8_SERVER_PATH; }

LocalServer::LocalServer(std::vector<std::string> extraArgs, const EnvChanges& env) : port_(freeLoopbackPort()) {
  std::vector<std::string> argv{serverBinary(), "--port", std::to_string(port_), "--key", key_};
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  process_ = std::make_unique<BackgroundProcess>(argv, env);
  if (!waitForPort(port_, 60)) throw std::runtime_error("isol8-server did not start:\n" + process_->output());
}

}  // namespace isol8::test
