// The blocking twins of the Engine interface: each runs its coroutine to completion on a
// private io_context, for host programs that do not run one themselves.
#include "isol8/engine.hpp"

#include "util/run_blocking.hpp"

namespace isol8 {

using detail::runBlocking;

void Engine::start(StartOptions options) { runBlocking(asyncStart(std::move(options))); }
void Engine::stop() { runBlocking(asyncStop()); }
ExecutionResult Engine::execute(ExecutionRequest request) { return runBlocking(asyncExecute(std::move(request))); }
void Engine::putFile(std::string path, std::string content) {
  runBlocking(asyncPutFile(std::move(path), std::move(content)));
}
std::string Engine::getFile(std::string path) { return runBlocking(asyncGetFile(std::move(path))); }

}  // namespace isol8
