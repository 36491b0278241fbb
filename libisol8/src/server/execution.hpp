// One execute request, whichever route brought it (POST /execute, POST /execute/stream, the
// WebSocket's execute message): the envelope checked against the server's policy, the engine
// chosen (the caller's session, or the shared warm engine), then the run, buffered or
// streamed into an Outbox.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "isol8/docker_isol8.hpp"
#include "server/http_types.hpp"
#include "server/outbox.hpp"
#include "server/sessions.hpp"

namespace isol8::server {

struct ServerState;

struct PreparedRun {
  ExecutionRequest request;
  std::shared_ptr<DockerIsol8> engine;
  std::shared_ptr<Session> session;  // null: ephemeral
  bool resultEvent = false;          // streamed: end with the `result` event (wire::ExecuteBody)
};

// Reads {request, options?, sessionId?} and checks it: HttpError 400 (malformed: the field
// named), 403 (an option beyond the server's policy), 429 (a new session past
// server.maxSessions or server.maxSessionsPerTenant), 503 (a new option set while
// server.maxEngines engines are busy).
PreparedRun prepareRun(ServerState& state, const Caller& caller, const boost::json::value& envelope);

// The whole result: 200 ExecutionResult, or {"error"} as Response::failure says (400, 410,
// 503, 500). Cancelling `clientGone` (its client left) stops the run, or skips it while it is
// queued.
boost::asio::awaitable<Response> runBuffered(ServerState& state, const Caller& caller, PreparedRun run,
                                             std::shared_ptr<RunCanceller> clientGone);

// Pushes each event (JSON text) into `out`, then the `result` event when the run asked for it
// and got that far, then finishes `out`. An error before the run starts
// becomes one {"type":"error","data":...} event without phase, as in the original. When the
// transport cancels `out` the run is stopped (its container goes back to the pool).
boost::asio::awaitable<void> runStreamed(ServerState& state, Caller caller, PreparedRun run,
                                         std::shared_ptr<Outbox> out);

// A session whose container is gone (410) is forgotten and its engine stopped, so the next
// request naming its id starts a new session.
boost::asio::awaitable<void> forgetGoneSession(ServerState& state, const Caller& caller,
                                               const std::shared_ptr<Session>& session);

// {"type":"error","data":message}: the server's own error event (no phase).
std::string errorEventJson(std::string_view message);

}  // namespace isol8::server
