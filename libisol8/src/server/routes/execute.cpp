// POST /execute: one run, the whole result in the answer.
#include "server/execution.hpp"
#include "server/routes/routes.hpp"
#include "server/state.hpp"

namespace isol8::server {

boost::asio::awaitable<Response> postExecute(ServerState& state, const Caller& caller, Request& request) {
  PreparedRun run = prepareRun(state, caller, takeBodyObject(request));
  co_return co_await runBuffered(state, caller, std::move(run), request.clientGone);
}

}  // namespace isol8::server
