// The blocking twins of the Engine interface: each runs its coroutine to completion on a
// private io_context, for host programs that do not run one themselves.
#include "isol8/engine.hpp"

#include "util/run_blocking.hpp"

namespace isol8 {

using detail::runBlocking;

void Engine::start() { runBlocking(asyncStart()); }
void Engine::stop() { runBlocking(asyncStop()); }
ExecutionResult Engine::execute(ExecutionRequest request, OutputHandler onOutput) {
  return runBlocking(asyncExecute(std::move(request), std::move(onOutput)));
}

}  // namespace isol8
