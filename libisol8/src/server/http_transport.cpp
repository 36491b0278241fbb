#include "server/http_transport.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>

#include "server/authenticate.hpp"
#include "server/execution.hpp"
#include "server/routes/routes.hpp"
#include "server/state.hpp"

namespace isol8::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

// Request files travel base64 inside JSON; 64 MiB is ample and bounds a client's memory use.
constexpr std::uint64_t kMaxBodyBytes = 64ull << 20;
// A keep-alive connection with no request for this long is closed.
constexpr auto kIdleTimeout = std::chrono::seconds(120);

using HttpRequest = http::request<http::string_body>;

Request toRequest(const HttpRequest& req) {
  return makeRequest(req.method_string(), req.target(), req[http::field::authorization], req.body());
}

asio::awaitable<bool> writeResponse(beast::tcp_stream& stream, const Response& answer, unsigned version,
                                    bool keepAlive) {
  http::response<http::string_body> res{static_cast<http::status>(answer.status), version};
  res.set(http::field::content_type, answer.contentType);
  res.keep_alive(keepAlive);
  res.body() = answer.body;
  res.prepare_payload();
  const auto [ec, n] = co_await http::async_write(stream, res, as_tuple(use_awaitable));
  co_return !ec;
}

// Reads (and drops) whatever the client sends while its stream runs; the end of the
// connection cancels the run. `done` is set by the connection before it closes the socket,
// so a read that completed meanwhile does not touch the socket again.
asio::awaitable<void> watchForDisconnect(tcp::socket& socket, std::shared_ptr<bool> done, std::shared_ptr<Outbox> out) {
  std::vector<char> scratch(512);
  for (;;) {
    const auto [ec, n] = co_await socket.async_read_some(asio::buffer(scratch), as_tuple(use_awaitable));
    if (*done) co_return;
    if (ec) {
      out->cancel();
      co_return;
    }
  }
}

// POST /execute/stream: checks first (a refused request is a plain 4xx), then 200 and one
// chunk per frame, "data: <event>\n\n", with ": keep-alive\n\n" after a silence.
asio::awaitable<void> serveSse(ServerState& state, const Caller& caller, beast::tcp_stream& stream,
                               const Request& request, unsigned version) {
  PreparedRun run;
  std::optional<Response> refusal;
  try {
    run = prepareRun(state, caller, bodyObject(request));
  } catch (const HttpError& e) {
    refusal = Response::error(e.status(), e.what());
  }
  if (refusal) {
    co_await writeResponse(stream, *refusal, version, false);
    co_return;
  }
  http::response<http::empty_body> res{http::status::ok, version};
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::connection, "keep-alive");
  res.chunked(true);
  http::response_serializer<http::empty_body> serializer{res};
  if (const auto [ec, n] = co_await http::async_write_header(stream, serializer, as_tuple(use_awaitable)); ec)
    co_return;

  const auto executor = co_await asio::this_coro::executor;
  auto out = std::make_shared<Outbox>(executor);
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(executor, runStreamed(state, caller, std::move(run), out), asio::detached);
  asio::co_spawn(executor, watchForDisconnect(stream.socket(), done, out), asio::detached);

  const std::chrono::milliseconds keepAlive(state.config.server.sseKeepAliveMs);
  bool broken = false;
  for (;;) {
    auto item = co_await out->next(keepAlive);
    std::string frame;
    if (const auto* message = std::get_if<std::string>(&item))
      frame = "data: " + *message + "\n\n";
    else if (std::holds_alternative<Outbox::Idle>(item))
      frame = ": keep-alive\n\n";
    else
      break;
    if (const auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(frame)),
                                                        as_tuple(use_awaitable));
        ec) {
      out->cancel();
      broken = true;
      break;
    }
  }
  if (!broken) co_await asio::async_write(stream, http::make_chunk_last(), as_tuple(use_awaitable));
  *done = true;
}

struct WsConnection {
  explicit WsConnection(beast::tcp_stream stream, asio::any_io_executor executor)
      : ws(std::move(stream)), out(std::make_shared<Outbox>(std::move(executor))) {}
  websocket::stream<beast::tcp_stream> ws;
  std::shared_ptr<Outbox> out;
};

// Sends the outbox's messages as text frames, then the close frame it finished with.
asio::awaitable<void> wsWriter(std::shared_ptr<WsConnection> conn) {
  for (;;) {
    auto item = co_await conn->out->next(std::chrono::hours(1));
    if (const auto* message = std::get_if<std::string>(&item)) {
      conn->ws.text(true);
      if (const auto [ec, n] = co_await conn->ws.async_write(asio::buffer(*message), as_tuple(use_awaitable)); ec) {
        conn->out->cancel();
        co_return;
      }
    } else if (const auto* finished = std::get_if<Outbox::Finished>(&item)) {
      const websocket::close_reason reason(static_cast<websocket::close_code>(finished->closeCode), finished->reason);
      co_await conn->ws.async_close(reason, as_tuple(use_awaitable));
      co_return;
    }
  }
}

// GET /execute/ws: one execution per connection. Messages: {"type":"execute", request,
// options?, sessionId?}; "stdin" and "signal" are accepted and ignored (reserved, as in the
// original); anything else gets an error event. The server closes with 1000 "Execution
// complete" after the run, 1003 "Invalid JSON" after unparseable text.
asio::awaitable<void> serveWebSocket(ServerState& state, const Caller& caller, beast::tcp_stream stream,
                                     HttpRequest upgrade) {
  const auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_shared<WsConnection>(std::move(stream), executor);
  conn->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  conn->ws.read_message_max(kMaxBodyBytes);
  if (const auto [ec] = co_await conn->ws.async_accept(upgrade, as_tuple(use_awaitable)); ec) co_return;
  asio::co_spawn(executor, wsWriter(conn), asio::detached);

  bool started = false;
  for (;;) {
    beast::flat_buffer buffer;
    if (const auto [ec, n] = co_await conn->ws.async_read(buffer, as_tuple(use_awaitable)); ec) {
      conn->out->cancel();  // the client left (or our close completed): stop the run
      conn->out->finish();
      co_return;
    }
    json::value message;
    boost::system::error_code parseError;
    message = json::parse(beast::buffers_to_string(buffer.data()), parseError);
    if (parseError || !message.is_object()) {
      conn->out->push(errorEventJson("Invalid JSON message"));
      conn->out->finish(Outbox::Finished{1003, "Invalid JSON"});
      continue;
    }
    const auto* type = message.get_object().if_contains("type");
    const std::string typeName = type && type->is_string() ? std::string(type->get_string()) : std::string();
    if (typeName == "stdin" || typeName == "signal") continue;
    if (typeName != "execute") {
      conn->out->push(errorEventJson("Unknown message type: " + typeName));
      continue;
    }
    if (started) {
      conn->out->push(errorEventJson("An execution is already running on this connection"));
      continue;
    }
    started = true;
    try {
      PreparedRun run = prepareRun(state, caller, message);
      asio::co_spawn(executor, runStreamed(state, caller, std::move(run), conn->out), asio::detached);
    } catch (const HttpError& e) {
      conn->out->push(errorEventJson(e.what()));
      conn->out->finish();
    }
  }
}

}  // namespace

asio::awaitable<void> serveConnection(ServerState& state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    stream.expires_after(kIdleTimeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
    if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      // curl asks before sending a body over 1 KiB and otherwise waits a second for this.
      http::response<http::empty_body> proceed{http::status::continue_, parser.get().version()};
      std::tie(ec, n) = co_await http::async_write(stream, proceed, as_tuple(use_awaitable));
    }
    if (!ec && !parser.is_done()) std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
    if (ec == http::error::body_limit) {
      co_await writeResponse(stream, Response::error(413, "body exceeds the limit of 64 MiB"), 11, false);
      break;
    }
    if (ec) break;
    stream.expires_never();
    HttpRequest req = parser.release();
    const Request request = toRequest(req);
    const bool keepAlive = req.keep_alive();

    Response answer;
    if (request.path == "/health" && request.method == "GET") {
      answer = health();
    } else {
      auto who = authenticate(state, request);
      if (auto* refusal = std::get_if<Response>(&who)) {
        answer = std::move(*refusal);
      } else {
        const Caller caller = std::get<Caller>(who);
        if (request.path == "/execute/ws" && websocket::is_upgrade(req)) {
          co_await serveWebSocket(state, caller, std::move(stream), std::move(req));
          co_return;
        }
        if (request.path == "/execute/stream" && request.method == "POST") {
          co_await serveSse(state, caller, stream, request, req.version());
          break;
        }
        answer = co_await dispatch(state, caller, request);
      }
    }
    if (!co_await writeResponse(stream, answer, req.version(), keepAlive) || !keepAlive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace isol8::server
