// DockerIsol8: runs requests in hardened containers on the local Docker engine, from a warm
// pool (mode ephemeral) or in one container kept for the engine's life (mode persistent).
// The engine works on its own thread; every method may be called from any thread except
// that engine thread itself (i.e. not from inside an OutputHandler-like callback).
#pragma once

#include <memory>
#include <string>

#include "isol8/engine.hpp"
#include "isol8/options.hpp"
#include "isol8/run_canceller.hpp"

namespace isol8 {

class DockerIsol8 : public Engine {
 public:
  explicit DockerIsol8(EngineOptions options = {});
  // Stops the engine if stop() was not called: no container of it is left behind
  // (except those kept on purpose with `persist`).
  ~DockerIsol8() override;
  DockerIsol8(const DockerIsol8&) = delete;
  DockerIsol8& operator=(const DockerIsol8&) = delete;

  boost::asio::awaitable<void> asyncStart(StartOptions options = {}) override;
  boost::asio::awaitable<void> asyncStop() override;
  boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request) override;
  // The same, stoppable through `canceller` (a run cancelled before it starts never starts;
  // one cancelled meanwhile ends as a cancelled stream does).
  boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request,
                                                       std::shared_ptr<RunCanceller> canceller);
  ExecutionStream executeStream(ExecutionRequest request) override;
  // Persistent mode only, after the first execute; otherwise Error(no_container):
  //   No active container. Call execute() first in persistent mode.
  // Paths must be inside /sandbox or /tmp; content is bytes (binary safe).
  boost::asio::awaitable<void> asyncPutFile(std::string path, std::string content) override;
  boost::asio::awaitable<std::string> asyncGetFile(std::string path) override;

  // Force-removes every container this engine created (label isol8.engine=<engineId>),
  // `persist` ones included. What Ctrl-C does: runs in flight end with an error.
  boost::asio::awaitable<void> asyncRemoveAllContainers();

  const EngineOptions& options() const;
  // Random id of this engine instance, put on its containers as label isol8.engine.
  const std::string& engineId() const;
  // The persistent container's id; empty before the first execute (and in mode ephemeral).
  std::string containerId() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isol8
