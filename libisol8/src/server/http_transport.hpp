// One client connection of isol8-server: HTTP/1.1 requests (keep-alive), authentication, the
// JSON routes, and the two streaming transports, SSE (POST /execute/stream) and WebSocket
// (GET /execute/ws). The only translation unit of the server that sees Beast.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace isol8::server {

struct ServerState;

boost::asio::awaitable<void> serveConnection(ServerState& state, boost::asio::ip::tcp::socket socket);

}  // namespace isol8::server
