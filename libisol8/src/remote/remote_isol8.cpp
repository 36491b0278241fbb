// RemoteIsol8: each call hops onto the engine's own thread (one io_context, so no locks) and
// makes one HTTP/1.1 request on a new connection (Connection: close), plain or TLS.
// Streams: GET /execute/ws upgraded to a WebSocket; when the server declines the upgrade
// (404, 426, ...) or the connection fails before it, POST /execute/stream (SSE) instead, and
// every later stream of this engine goes there directly. A 401/403 on the upgrade is the
// server's answer, not a missing route: it ends the stream with the server's message.
// Cancelling a stream closes its socket; the server sees the disconnect and stops the run.
#include "isol8/remote_isol8.hpp"

#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "engine/event_queue.hpp"
#include "engine/notifier.hpp"
#include "isol8/version.hpp"
#include "json/wire.hpp"
#include "network/tls_client.hpp"
#include "network/url.hpp"
#include "remote/sse_parser.hpp"
#include "util/log.hpp"
#include "util/run_blocking.hpp"
#include "util/engine_thread.hpp"
#include "util/text.hpp"

namespace isol8 {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using namespace detail;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(30);

struct Response {
  int status = 0;
  std::string reason;  // the status line's text
  std::string body;
  bool ok() const { return status >= 200 && status <= 299; }
};

// What the server said went wrong: its {"error": "..."}, else the status text (as the
// original client does).
std::string failureReason(int status, std::string_view reason, std::string_view body) {
  try {
    const json::value value = wire::parse(body);
    if (const auto* object = value.if_object())
      if (const auto* error = object->if_contains("error"); error && error->is_string())
        return std::string(error->as_string());
  } catch (const std::exception&) {
  }
  if (!reason.empty()) return std::string(reason);
  const auto standard = http::obsolete_reason(static_cast<http::status>(status));
  return standard.empty() ? fmt::format("HTTP {}", status) : std::string(standard);
}

[[noreturn]] void failed(std::string_view what, const Response& response) {
  throw RemoteError(response.status,
                    fmt::format("{}: {}", what, failureReason(response.status, response.reason, response.body)));
}

json::value parseBody(const Response& response) { return wire::parse(response.body, "the server's response"); }

// A stream's link to its connection, for cancel (from the consumer, posted to the engine's
// thread) and for the engine's stop.
struct StreamControl {
  bool cancelled = false;
  std::function<void()> abort;  // closes the connection while one is open
  void cancel() {
    cancelled = true;
    if (abort) abort();
  }
};

// Points a stream's abort at its connection for as long as the connection exists.
class AbortHook {
 public:
  AbortHook(StreamControl& control, std::function<void()> abort) : control_(control) { control_.abort = std::move(abort); }
  ~AbortHook() { control_.abort = nullptr; }
  AbortHook(const AbortHook&) = delete;
  AbortHook& operator=(const AbortHook&) = delete;

 private:
  StreamControl& control_;
};

// Pushes events to the stream's queue and remembers whether the last one was an `exit`; the
// `result` event (asked for with resultEvent, docs/http-api.md) becomes the stream's result().
class EventSink {
 public:
  EventSink(std::shared_ptr<EventQueue> queue, const Logger& log) : queue_(std::move(queue)), log_(log) {}
  void push(StreamEvent event) {
    last_ = event.type;
    ended_ = event.type == StreamEvent::Type::exit;
    queue_->push(std::move(event));
  }
  // One frame's JSON; frames that are neither a StreamEvent nor the result are skipped.
  void pushJson(std::string_view text) {
    try {
      const json::value frame = wire::parse(text, "event");
      if (auto result = wire::resultOfEvent(frame)) queue_->setResult(std::move(*result));
      else push(wire::streamEventFromJson(frame));
    } catch (const std::exception& e) {
      log_.debug("remote stream: ignoring a frame ({})", e.what());
    }
  }
  bool ended() const { return ended_; }
  // An error is the last word so far (the server reports its exceptions without an exit).
  bool explained() const { return ended_ || last_ == StreamEvent::Type::error; }

 private:
  std::shared_ptr<EventQueue> queue_;
  const Logger& log_;
  bool ended_ = false;
  std::optional<StreamEvent::Type> last_;
};

}  // namespace

struct RemoteIsol8::Impl {
  RemoteOptions remote;
  EngineOptions options;
  const Logger log;  // set in the constructor (see DockerIsol8::Impl)
  const json::object clientOptions = wire::toJson(wire::clientOptionsFrom(options));
  ParsedUrl server;
  std::string basePath;  // the host URL's path, without a trailing '/'
  bool tls = false;
  std::string authorization;
  EngineThread engine;
  asio::io_context& context = engine.context();
  std::optional<ssl::context> tlsContext;
  bool webSocketRefused = false;  // the server did not upgrade once: SSE from then on
  std::set<StreamControl*> activeStreams;
  ChangeNotifier streamsChanged;
  Impl(RemoteOptions r, EngineOptions o) : remote(std::move(r)), options(std::move(o)), log(options.debug, options.logSink) {
    if (remote.host.ends_with('/')) remote.host.pop_back();
    server = parseUrl(remote.host);
    if (server.scheme != "http" && server.scheme != "https")
      throw Error(errc::invalid_request, fmt::format("Invalid host URL: {} (expected http:// or https://)", remote.host));
    tls = server.scheme == "https";
    basePath = server.target;
    if (basePath.ends_with('/')) basePath.pop_back();
    authorization = "Bearer " + remote.apiKey;
    engine.start();
  }

  ~Impl() { engine.join(); }

  [[noreturn]] void unreachable(const boost::system::error_code& ec) const {
    throw RemoteError(0, fmt::format("Cannot reach the isol8 server at {}: {}", remote.host, ec.message()));
  }

  // ---- connections ----------------------------------------------------------------------

  asio::awaitable<beast::tcp_stream> connectTcp() {
    tcp::resolver resolver(context);
    const std::string port = std::to_string(server.effectivePort());
    auto [rec, endpoints] =
        co_await resolver.async_resolve(server.hostName, port, tcp::resolver::numeric_service, asio::as_tuple(use_awaitable));
    if (rec) unreachable(rec);
    beast::tcp_stream stream(context);
    stream.expires_after(kConnectTimeout);
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, asio::as_tuple(use_awaitable));
    if (cec) unreachable(cec);
    stream.expires_never();
    co_return stream;
  }

  // Connects (TLS for https) and runs `operation(stream)` with the plain or the TLS stream;
  // `operation` is generic over the two.
  template <typename Operation>
  auto onConnection(Operation operation) -> decltype(operation(std::declval<beast::tcp_stream&>())) {
    beast::tcp_stream tcpStream = co_await connectTcp();
    if (!tls) co_return co_await operation(tcpStream);
    if (!tlsContext) tlsContext.emplace(makeTlsClientContext());
    beast::ssl_stream<beast::tcp_stream> tlsStream(std::move(tcpStream), *tlsContext);
    if (!prepareTlsClient(tlsStream, server.hostName, server.ipLiteral))
      throw RemoteError(0, "Cannot set the TLS server name for " + server.hostName);
    beast::get_lowest_layer(tlsStream).expires_after(kConnectTimeout);
    auto [hec] = co_await tlsStream.async_handshake(ssl::stream_base::client, asio::as_tuple(use_awaitable));
    if (hec) unreachable(hec);
    beast::get_lowest_layer(tlsStream).expires_never();
    co_return co_await operation(tlsStream);
  }

  http::request<http::string_body> makeRequest(http::verb verb, const std::string& target, std::string body) const {
    http::request<http::string_body> request(verb, basePath + target, 11);
    request.set(http::field::host, server.hostHeader());
    request.set(http::field::user_agent, fmt::format("isol8/{}", version()));
    request.set(http::field::authorization, authorization);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::connection, "close");
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
  }

  template <typename Stream>
  asio::awaitable<void> send(Stream& stream, http::request<http::string_body>& request) {
    auto [ec, written] = co_await http::async_write(stream, request, asio::as_tuple(use_awaitable));
    if (ec) unreachable(ec);
  }

  // One request, the whole response.
  asio::awaitable<Response> request(http::verb verb, std::string target, std::string body = {}) {
    auto message = makeRequest(verb, target, std::move(body));
    auto exchange = [&](auto& stream) -> asio::awaitable<Response> {
      co_await send(stream, message);
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);
      auto [ec, read] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(use_awaitable));
      // A TLS server may close without close_notify once the body is complete.
      if (ec && !(ec == ssl::error::stream_truncated && parser.is_done())) unreachable(ec);
      Response response;
      response.status = static_cast<int>(parser.get().result_int());
      response.reason = std::string(parser.get().reason());
      response.body = std::move(parser.get().body());
      co_return response;
    };
    co_return co_await onConnection(exchange);
  }

  asio::awaitable<Response> postJson(std::string target, const json::object& body) {
    co_return co_await request(http::verb::post, std::move(target), json::serialize(body));
  }

  // ---- calls ----------------------------------------------------------------------------

  // Percent-encoded (the original sends the id raw, which breaks on a space or '?').
  static std::string sessionTarget(const std::string& id) { return "/session/" + urlEncode(id); }

  asio::awaitable<void> start() {
    const std::string target = "/health";
    const Response response = co_await request(http::verb::get, target);
    if (!response.ok())
      throw RemoteError(response.status, fmt::format("Remote server health check failed: {}", response.status));
  }

  asio::awaitable<void> stop() {
    co_await closeStreams();
    if (remote.sessionId) co_await request(http::verb::delete_, sessionTarget(*remote.sessionId));  // status ignored
  }

  json::object executeBody(ExecutionRequest request) const {
    json::object body;
    body["request"] = wire::toJson(request);
    if (!clientOptions.empty()) body["options"] = clientOptions;
    if (remote.sessionId) body["sessionId"] = *remote.sessionId;
    return body;
  }

  asio::awaitable<ExecutionResult> execute(ExecutionRequest req) {
    const std::string target = "/execute";
    const Response response = co_await postJson(target, executeBody(std::move(req)));
    if (!response.ok()) failed("Execution failed", response);
    co_return wire::resultFromJson(parseBody(response));
  }

  const std::string& sessionForFiles() const {
    if (!remote.sessionId) throw Error(errc::no_container, "File operations require a sessionId (persistent mode)");
    return *remote.sessionId;
  }

  asio::awaitable<void> putFile(std::string path, std::string content) {
    json::object body{{"sessionId", sessionForFiles()}, {"path", path}, {"content", base64Encode(content)}};
    const std::string target = "/file";
    const Response response = co_await postJson(target, body);
    if (!response.ok()) failed("File upload failed", response);
  }

  asio::awaitable<std::string> getFile(std::string path) {
    const std::string target = fmt::format("/file?sessionId={}&path={}", urlEncode(sessionForFiles()), urlEncode(path));
    const Response response = co_await request(http::verb::get, target);
    if (!response.ok()) failed("File download failed", response);
    const json::value value = parseBody(response);
    const auto* content = value.is_object() ? value.as_object().if_contains("content") : nullptr;
    std::optional<std::string> bytes;
    if (content && content->is_string()) bytes = base64Decode(content->as_string());
    if (!bytes) throw RemoteError(response.status, "File download failed: the server's response has no base64 content");
    co_return std::move(*bytes);
  }

  asio::awaitable<std::vector<SessionInfo>> listSessions() {
    const std::string target = "/sessions";
    const Response response = co_await request(http::verb::get, target);
    if (!response.ok()) failed("Failed to list sessions", response);
    std::vector<SessionInfo> sessions;
    try {
      const json::value body = parseBody(response);
      for (const auto& entry : body.as_object().at("sessions").as_array()) {
        const auto& s = entry.as_object();
        SessionInfo info;
        info.id = std::string(s.at("id").as_string());
        if (const auto* active = s.if_contains("isActive"); active && active->is_bool()) info.isActive = active->as_bool();
        if (const auto* at = s.if_contains("lastAccessedAt"); at && at->is_string())
          info.lastAccessedAt = std::string(at->as_string());
        sessions.push_back(std::move(info));
      }
    } catch (const std::exception& e) {
      throw RemoteError(response.status, fmt::format("Failed to list sessions: unexpected response ({})", e.what()));
    }
    co_return sessions;
  }

  asio::awaitable<void> deleteSession(std::string id) {
    const Response response = co_await request(http::verb::delete_, sessionTarget(id));
    if (!response.ok()) failed("Failed to delete session", response);
  }

  asio::awaitable<LoginResult> login(LoginOptions login) {
    json::object body;
    if (login.name) body["name"] = *login.name;
    if (login.ttlMs) body["ttlMs"] = *login.ttlMs;
    const std::string target = "/auth/login";
    const Response response = co_await postJson(target, body);
    if (!response.ok()) failed("Login failed", response);
    LoginResult result;
    try {
      const json::value body = parseBody(response);
      const auto& o = body.as_object();
      result.token = std::string(o.at("token").as_string());
      if (const auto* v = o.if_contains("expiresAt"); v && v->is_string()) result.expiresAt = std::string(v->as_string());
      if (const auto* v = o.if_contains("keyId"); v && v->is_string()) result.keyId = std::string(v->as_string());
    } catch (const std::exception& e) {
      throw RemoteError(response.status, fmt::format("Login failed: unexpected response ({})", e.what()));
    }
    co_return result;
  }

  // ---- streams --------------------------------------------------------------------------

  // The WebSocket route. Returns false when the server did not upgrade (a missing route):
  // then nothing was run. Declines with 401/403 throw the server's message. `upgraded` is
  // set once the server took the connection: from then on a failure is not a reason for SSE.
  template <typename Stream>
  asio::awaitable<bool> webSocketStream(Stream& stream, const std::string& message, StreamControl& control,
                                        EventSink& sink, bool& upgraded) {
    if (control.cancelled) co_return true;
    websocket::stream<Stream> ws(std::move(stream));
    ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& request) {
      request.set(http::field::authorization, authorization);
      request.set(http::field::user_agent, fmt::format("isol8/{}", version()));
    }));
    AbortHook hook(control, [&ws] { beast::get_lowest_layer(ws).close(); });
    websocket::response_type response;
    beast::get_lowest_layer(ws).expires_after(kConnectTimeout);
    const std::string target = basePath + "/execute/ws";
    auto [hec] = co_await ws.async_handshake(response, server.hostHeader(), target, asio::as_tuple(use_awaitable));
    if (hec) {
      const int status = static_cast<int>(response.result_int());
      if (hec == websocket::error::upgrade_declined && (status == 401 || status == 403))
        throw RemoteError(status, fmt::format("Stream failed: {}", failureReason(status, response.reason(), response.body())));
      log.debug("remote stream: no WebSocket ({}, status {}); using SSE", hec.message(), status);
      co_return false;
    }
    upgraded = true;
    beast::get_lowest_layer(ws).expires_never();
    ws.text(true);
    auto [wec, written] = co_await ws.async_write(asio::buffer(message), asio::as_tuple(use_awaitable));
    beast::flat_buffer buffer;
    boost::system::error_code ec = wec;
    while (!ec) {
      auto [rec, read] = co_await ws.async_read(buffer, asio::as_tuple(use_awaitable));
      ec = rec;
      if (ec) break;
      sink.pushJson(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    if (ec != websocket::error::closed && !control.cancelled && !sink.ended())
      throw RemoteError(0, fmt::format("Connection to the isol8 server lost: {}", ec.message()));
    co_return true;
  }

  // The SSE route: frames `data: <event>` until the server closes the body.
  template <typename Stream>
  asio::awaitable<bool> sseStream(Stream& stream, const std::string& body, StreamControl& control, EventSink& sink) {
    if (control.cancelled) co_return true;
    AbortHook hook(control, [&stream] { beast::get_lowest_layer(stream).close(); });
    auto message = makeRequest(http::verb::post, "/execute/stream", body);
    message.set(http::field::accept, "text/event-stream");
    co_await send(stream, message);
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, headerBytes] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (hec) unreachable(hec);
    const bool ok = parser.get().result_int() / 100 == 2;
    SseParser frames;
    std::string errorBody;
    std::vector<char> chunk(16 * 1024);
    boost::system::error_code ec;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      auto [rec, read] = co_await http::async_read_some(stream, buffer, parser, asio::as_tuple(use_awaitable));
      ec = rec == http::error::need_buffer ? boost::system::error_code{} : rec;
      const std::string_view bytes(chunk.data(), chunk.size() - parser.get().body().size);
      if (!ok) errorBody.append(bytes);
      else
        for (const auto& data : frames.feed(bytes)) sink.pushJson(data);
      if (ec) break;
    }
    if (!ok) {
      const int status = static_cast<int>(parser.get().result_int());
      throw RemoteError(status, fmt::format("Stream failed: {}", failureReason(status, parser.get().reason(), errorBody)));
    }
    for (const auto& data : frames.finish()) sink.pushJson(data);
    if (ec && !control.cancelled && !sink.ended())
      throw RemoteError(0, fmt::format("Connection to the isol8 server lost: {}", ec.message()));
    co_return true;
  }

  asio::awaitable<void> runStream(std::string message, std::string body, StreamControl& control, EventSink& sink) {
    if (!webSocketRefused) {
      bool upgraded = false, ran = false;
      auto overWebSocket = [&](auto& stream) { return webSocketStream(stream, message, control, sink, upgraded); };
      try {
        ran = co_await onConnection(overWebSocket);
      } catch (const RemoteError& e) {
        // The server refused (its answer stands), or the run was under way: never run it twice.
        if (e.status() != 0 || upgraded) throw;
        if (control.cancelled) co_return;
        log.debug("remote stream: WebSocket failed ({}); using SSE", e.what());
      }
      if (ran) co_return;
      webSocketRefused = true;
    }
    if (control.cancelled) co_return;
    auto overSse = [&](auto& stream) { return sseStream(stream, body, control, sink); };
    co_await onConnection(overSse);
  }

  asio::awaitable<void> stream(ExecutionRequest req, std::shared_ptr<EventQueue> queue) {
    auto controlPtr = std::make_shared<StreamControl>();
    StreamControl& control = *controlPtr;
    activeStreams.insert(&control);
    // Runs on the consumer's thread; the control is touched on the engine's only.
    queue->onCancel([this, weak = std::weak_ptr<StreamControl>(controlPtr)] {
      asio::post(context, [weak] {
        if (auto control = weak.lock()) control->cancel();
      });
    });
    EventSink sink(queue, log);
    using Type = StreamEvent::Type;
    json::object body = executeBody(std::move(req));
    body["resultEvent"] = true;  // an original server ignores it: result() stays empty
    json::object message{{"type", "execute"}};
    for (const auto& [key, value] : body) message[key] = value;
    try {
      co_await runStream(json::serialize(message), json::serialize(body), control, sink);
      if (control.cancelled && !sink.ended()) sink.push(StreamEvent{Type::error, "Execution cancelled"});
      if (!sink.explained()) sink.push(StreamEvent{Type::error, "The isol8 server ended the stream before the run ended"});
    } catch (const std::exception& e) {
      sink.push(StreamEvent{Type::error, control.cancelled ? "Execution cancelled" : e.what()});
    }
    if (!sink.ended()) sink.push(StreamEvent{Type::exit, "1"});
    queue->close();
    activeStreams.erase(&control);
    streamsChanged.notify();
  }

  asio::awaitable<void> closeStreams() {
    for (auto* stream : activeStreams) stream->cancel();
    while (!activeStreams.empty()) co_await streamsChanged.wait();
  }
};

RemoteIsol8::RemoteIsol8(RemoteOptions remote, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(remote), std::move(options))) {}

RemoteIsol8::~RemoteIsol8() {
  try {
    impl_->engine.run(impl_->closeStreams());
  } catch (const std::exception& e) {
    impl_->log.warning("closing remote streams: {}", e.what());
  }
}

const RemoteOptions& RemoteIsol8::remoteOptions() const { return impl_->remote; }

asio::awaitable<void> RemoteIsol8::asyncStart(StartOptions) {
  co_await asio::co_spawn(impl_->context, impl_->start(), use_awaitable);
}

asio::awaitable<void> RemoteIsol8::asyncStop() { co_await asio::co_spawn(impl_->context, impl_->stop(), use_awaitable); }

asio::awaitable<ExecutionResult> RemoteIsol8::asyncExecute(ExecutionRequest request) {
  co_return co_await asio::co_spawn(impl_->context, impl_->execute(std::move(request)), use_awaitable);
}

ExecutionStream RemoteIsol8::executeStream(ExecutionRequest request) {
  auto queue = std::make_shared<EventQueue>(impl_->context.get_executor());
  asio::co_spawn(impl_->context, impl_->stream(std::move(request), queue), asio::detached);
  return ExecutionStream(queue);
}

asio::awaitable<void> RemoteIsol8::asyncPutFile(std::string path, std::string content) {
  co_await asio::co_spawn(impl_->context, impl_->putFile(std::move(path), std::move(content)), use_awaitable);
}

asio::awaitable<std::string> RemoteIsol8::asyncGetFile(std::string path) {
  co_return co_await asio::co_spawn(impl_->context, impl_->getFile(std::move(path)), use_awaitable);
}

asio::awaitable<std::vector<SessionInfo>> RemoteIsol8::asyncListSessions() {
  co_return co_await asio::co_spawn(impl_->context, impl_->listSessions(), use_awaitable);
}

asio::awaitable<void> RemoteIsol8::asyncDeleteSession(std::string id) {
  co_await asio::co_spawn(impl_->context, impl_->deleteSession(std::move(id)), use_awaitable);
}

asio::awaitable<LoginResult> RemoteIsol8::asyncLogin(LoginOptions options) {
  co_return co_await asio::co_spawn(impl_->context, impl_->login(std::move(options)), use_awaitable);
}

std::vector<SessionInfo> RemoteIsol8::listSessions() { return runBlocking(asyncListSessions()); }
void RemoteIsol8::deleteSession(std::string id) { runBlocking(asyncDeleteSession(std::move(id))); }
LoginResult RemoteIsol8::login(LoginOptions options) { return runBlocking(asyncLogin(std::move(options))); }

}  // namespace isol8
