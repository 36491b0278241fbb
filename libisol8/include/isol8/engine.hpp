// The interface every isol8 engine implements: the local DockerIsol8 and RemoteIsol8.
// Each operation has an asynchronous form on Asio coroutines (asyncX, to co_await from a host
// program's own io_context) and a blocking twin (X) for programs without one. Both are safe to
// call from any thread; the engine does its work on its own executor.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "isol8/execution_stream.hpp"
#include "isol8/types.hpp"

namespace isol8 {

struct StartOptions {
  // Fill the warm pools before the first request: of `runtimes`, or of all when empty.
  bool prewarm = false;
  std::vector<std::string> runtimes;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual boost::asio::awaitable<void> asyncStart(StartOptions options = {}) = 0;
  // Removes every container of the engine (pooled and persistent); idempotent.
  virtual boost::asio::awaitable<void> asyncStop() = 0;
  // Runs one request to completion; the result holds the whole (capped, masked) output.
  virtual boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request) = 0;
  // Starts one request and returns its events as they happen: setup-phase output, then
  // code-phase output, then one `exit` (or `error` + `exit`). Destroying the stream before
  // the end stops the run.
  virtual ExecutionStream executeStream(ExecutionRequest request) = 0;
  // Files of the persistent container (mode persistent, after the first execute).
  virtual boost::asio::awaitable<void> asyncPutFile(std::string path, std::string content) = 0;
  virtual boost::asio::awaitable<std::string> asyncGetFile(std::string path) = 0;

  void start(StartOptions options = {});
  void stop();
  ExecutionResult execute(ExecutionRequest request);
  void putFile(std::string path, std::string content);
  std::string getFile(std::string path);
};

}  // namespace isol8
