#include "server/http_transport.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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
#include <fmt/format.h>

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

// A keep-alive connection's body, once its header was accepted, must arrive within this.
constexpr auto kBodyTimeout = std::chrono::seconds(120);

using HttpRequest = http::request<http::string_body>;

// The request's head: what authentication and routing need, before any body is read.
Request headOf(const HttpRequest& req) {
  return makeRequest(req.method_string(), req.target(), req[http::field::authorization], {});
}

asio::awaitable<bool> writeResponse(beast::tcp_stream& stream, const Response& answer, unsigned version,
                                    bool keepAlive) {
  http::response<http::string_body> res{static_cast<http::status>(answer.status), version};
  res.set(http::field::content_type, answer.contentType);
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  res.keep_alive(keepAlive);
  res.body() = answer.body;
  res.prepare_payload();
  const auto [ec, n] = co_await http::async_write(stream, res, as_tuple(use_awaitable));
  co_return !ec;
}

// Watches the connection while a run goes on: its end (or an error) calls `gone`, which
// cancels the run. What the client sends meanwhile is read and dropped when `drain` (a
// stream's connection carries nothing more), else left for the next request (a keep-alive
// client may send it early) and the watch ends. `done` is set by the connection before it
// touches the socket again, so a wait that completed meanwhile does nothing.
asio::awaitable<void> watchForDisconnect(tcp::socket& socket, std::shared_ptr<bool> done, std::function<void()> gone,
                                         bool drain) {
  std::vector<char> scratch(512);
  for (;;) {
    const auto [waitError] = co_await socket.async_wait(tcp::socket::wait_read, as_tuple(use_awaitable));
    if (*done) co_return;
    boost::system::error_code ec = waitError;
    std::size_t n = 0;
    // Non-blocking, so that a wake-up with nothing to read cannot block the server's thread.
    if (!ec) socket.non_blocking(true, ec);
    if (!ec) n = socket.receive(asio::buffer(scratch), drain ? 0 : tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block) continue;
    if (ec || n == 0) {
      gone();
      co_return;
    }
    if (!drain) co_return;
  }
}

// POST /execute/stream: checks first (a refused request is a plain 4xx), then 200 and one
// chunk per frame, "data: <event>\n\n", with ": keep-alive\n\n" after a silence.
asio::awaitable<void> serveSse(ServerState& state, const Caller& caller, beast::tcp_stream& stream, Request& request,
                               unsigned version) {
  PreparedRun run;
  std::optional<Response> refusal;
  try {
    run = prepareRun(state, caller, takeBodyObject(request));
  } catch (const HttpError& e) {
    refusal = Response::error(e.status(), e.what());
  } catch (const std::exception& e) {
    refusal = Response::error(500, e.what());
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
  // A named std::function, not a lambda converted in the call: g++ 12 destroys such a
  // temporary argument of a coroutine twice (heap corruption under load).
  std::function<void()> onGone = [out] { out->cancel(); };
  asio::co_spawn(executor, watchForDisconnect(stream.socket(), done, std::move(onGone), true), asio::detached);

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
  conn->ws.read_message_max(state.maxBodyBytes);
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
    // Parsed where it lies: a flat_buffer's data is one contiguous block.
    boost::system::error_code parseError;
    const json::value message = json::parse(
        std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()), parseError);
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
    } catch (const std::exception& e) {  // HttpError (a refused request) or a failure
      conn->out->push(errorEventJson(e.what()));
      conn->out->finish();
    }
  }
}

// Answers and ends the connection without reading the body. What the client sends meanwhile
// is read and dropped for a moment (a little of it, into a small buffer): closing with
// unread data would reset the connection, and the client could lose the answer.
asio::awaitable<void> refuse(beast::tcp_stream& stream, const Response& answer, unsigned version) {
  if (!co_await writeResponse(stream, answer, version, false)) co_return;
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  constexpr std::size_t kLingerBytes = 1 << 20;
  std::vector<char> scratch(16 << 10);
  stream.expires_after(std::chrono::seconds(1));
  for (std::size_t dropped = 0; dropped < kLingerBytes;) {
    const auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), as_tuple(use_awaitable));
    if (ec) break;
    dropped += n;
  }
}

// A buffered route's answer, with the run cancelled should the client leave meanwhile.
asio::awaitable<Response> dispatchWatched(ServerState& state, const Caller& caller, beast::tcp_stream& stream,
                                          Request& request) {
  request.clientGone = std::make_shared<RunCanceller>();
  auto done = std::make_shared<bool>(false);
  std::function<void()> onGone = [gone = request.clientGone] { gone->cancel(); };  // named: see serveSse
  const auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, watchForDisconnect(stream.socket(), done, std::move(onGone), false), asio::detached);
  Response answer = co_await dispatch(state, caller, request);
  *done = true;
  boost::system::error_code ignored;
  stream.socket().cancel(ignored);  // ends the watch's wait
  co_return answer;
}

}  // namespace

asio::awaitable<void> serveConnection(ServerState& state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  const std::chrono::milliseconds headerTimeout(state.config.server.headerTimeoutMs);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // checked below against the header, to answer 413 before reading
    // Slow or silent clients: the header must be complete within headerTimeoutMs of the
    // connection opening or the previous answer.
    stream.expires_after(headerTimeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
    if (ec) break;
    const unsigned version = parser.get().version();
    Request request = headOf(parser.get());

    // Who is calling, before a byte of the body is read: a stranger cannot make us hold one.
    std::optional<Caller> caller;
    if (!(request.path == "/health" && request.method == "GET")) {
      auto who = authenticate(state, request);
      if (auto* refusal = std::get_if<Response>(&who)) {
        co_await refuse(stream, *refusal, version);
        break;
      }
      caller = std::get<Caller>(who);
    }
    // The body's share of server.maxBodiesInFlight, taken before it is read and held until
    // the answer is sent (the request's data lives that long). A chunked body may grow to
    // maxBodySize, so that much is taken for it.
    const Response tooLarge =
        Response::error(413, fmt::format("body exceeds server.maxBodySize ({} bytes)", state.maxBodyBytes));
    const std::uint64_t announced =
        parser.content_length() ? *parser.content_length() : parser.chunked() ? state.maxBodyBytes : 0;
    if (announced > state.maxBodyBytes) {
      co_await refuse(stream, tooLarge, version);
      break;
    }
    std::optional<Ticket> bodyShare = state.bodies.take(announced);
    if (!bodyShare) {
      co_await refuse(stream,
                      Response::error(503, fmt::format("the server is holding as many request bodies as "
                                                       "server.maxBodiesInFlight allows ({} bytes); try again later",
                                                       state.config.server.maxBodiesInFlight)),
                      version);
      break;
    }
    parser.body_limit(state.maxBodyBytes);  // a chunked body is counted as it comes
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      // curl asks before sending a body over 1 KiB and otherwise waits a second for this.
      http::response<http::empty_body> proceed{http::status::continue_, version};
      std::tie(ec, n) = co_await http::async_write(stream, proceed, as_tuple(use_awaitable));
    }
    stream.expires_after(kBodyTimeout);
    if (!ec && !parser.is_done()) std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
    if (ec == http::error::body_limit) {
      co_await refuse(stream, tooLarge, version);
      break;
    }
    if (ec) break;
    stream.expires_never();
    HttpRequest req = parser.release();
    request.body = std::move(req.body());  // moved, not copied: bodies may be large
    const bool keepAlive = req.keep_alive();

    Response answer;
    if (!caller) {
      answer = health();
    } else if (request.path == "/execute/ws" && websocket::is_upgrade(req)) {
      co_await serveWebSocket(state, *caller, std::move(stream), std::move(req));
      co_return;
    } else if (request.path == "/execute/stream" && request.method == "POST") {
      co_await serveSse(state, *caller, stream, request, version);
      break;
    } else if (request.path == "/execute" && request.method == "POST") {
      answer = co_await dispatchWatched(state, *caller, stream, request);
    } else {
      answer = co_await dispatch(state, *caller, request);
    }
    request = Request{};  // the body's memory goes before its share does
    if (!co_await writeResponse(stream, answer, version, keepAlive) || !keepAlive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace isol8::server
