// isol8-server's JSON routes, one file each (docs/openapi.json documents them all). The two
// streaming routes, POST /execute/stream (SSE) and GET /execute/ws (WebSocket), are served by
// http_transport.cpp on top of execution.hpp.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "server/http_types.hpp"

namespace isol8::server {

struct ServerState;

// GET /health (no authentication): {"status":"ok","version":"..."}
Response health();

// The authenticated JSON routes, by method and path; 404 text for anything else. A route may
// take the request's body (POST /execute releases it once parsed).
boost::asio::awaitable<Response> dispatch(ServerState& state, const Caller& caller, Request& request);

// execute.cpp
boost::asio::awaitable<Response> postExecute(ServerState& state, const Caller& caller, Request& request);
// files.cpp
boost::asio::awaitable<Response> postFile(ServerState& state, const Caller& caller, const Request& request);
boost::asio::awaitable<Response> getFile(ServerState& state, const Caller& caller, const Request& request);
// sessions.cpp
Response getSessions(ServerState& state, const Caller& caller);
boost::asio::awaitable<Response> deleteSession(ServerState& state, const Caller& caller, const std::string& id);
// cleanup.cpp
boost::asio::awaitable<Response> postCleanup(ServerState& state, const Caller& caller, const Request& request);
// auth_keys.cpp (master key only)
Response postAuthKeys(ServerState& state, const Caller& caller, const Request& request);
Response getAuthKeys(ServerState& state, const Caller& caller, const Request& request);
Response deleteAuthKey(ServerState& state, const Caller& caller, const std::string& id);
Response postAuthLogin(ServerState& state, const Caller& caller, const Request& request);

}  // namespace isol8::server
