// DockerIsol8: runs requests in hardened containers on the local Docker engine.
#pragma once

#include <memory>
#include <string>

#include "isol8/engine.hpp"
#include "isol8/options.hpp"

namespace isol8 {

class DockerIsol8 : public Engine {
 public:
  explicit DockerIsol8(EngineOptions options = {});
  ~DockerIsol8() override;
  DockerIsol8(const DockerIsol8&) = delete;
  DockerIsol8& operator=(const DockerIsol8&) = delete;

  boost::asio::awaitable<void> asyncStart() override;
  boost::asio::awaitable<void> asyncStop() override;
  boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request,
                                                       OutputHandler onOutput = {}) override;

  // Force-removes every container this engine created (label isol8.engine=<engineId>).
  // What Ctrl-C does: the runs in flight end with an error and leave nothing behind.
  boost::asio::awaitable<void> asyncRemoveAllContainers();

  const EngineOptions& options() const;
  // Random id of this engine instance, put on its containers as label isol8.engine.
  const std::string& engineId() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isol8
