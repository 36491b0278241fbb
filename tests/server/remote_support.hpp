// The real isol8-server for RemoteIsol8 and CLI tests: started on a free loopback port with a
// master key, stopped (SIGTERM) at the end of the test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support.hpp"

namespace isol8::test {

class LocalServer {
 public:
  // Returns once the server accepts connections; throws (with its output) when it does not.
  explicit LocalServer(std::vector<std::string> extraArgs = {}, const EnvChanges& env = {});
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& key() const { return key_; }
  std::string output() const { return process_->output(); }

 private:
  int port_ = 0;
  std::string key_ = "remote-test-master-key";
  std::unique_ptr<BackgroundProcess> process_;
};

// The isol8-server binary built by this tree.
std::string serverBinary();

}  // namespace isol8::test
