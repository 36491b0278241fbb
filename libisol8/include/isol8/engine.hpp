// The interface every isol8 engine implements: the local DockerIsol8 and (later) RemoteIsol8.
// Each operation has an asynchronous form on Asio coroutines (asyncX, to co_await from a host
// program's own io_context) and a blocking twin (X) for programs without one.
#pragma once

#include <functional>

#include <boost/asio/awaitable.hpp>

#include "isol8/types.hpp"

namespace isol8 {

class Engine {
 public:
  // Receives output as it is produced (stdout/stderr events, phase code). Called on the
  // engine's executor; must not block.
  using OutputHandler = std::function<void(const StreamEvent&)>;

  virtual ~Engine() = default;

  virtual boost::asio::awaitable<void> asyncStart() = 0;
  virtual boost::asio::awaitable<void> asyncStop() = 0;
  // Runs one request to completion. The result holds the whole (capped) output; when
  // `onOutput` is given it also sees each chunk as it arrives.
  virtual boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request,
                                                               OutputHandler onOutput = {}) = 0;

  void start();
  void stop();
  ExecutionResult execute(ExecutionRequest request, OutputHandler onOutput = {});
};

}  // namespace isol8
