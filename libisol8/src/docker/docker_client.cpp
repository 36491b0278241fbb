#include "docker/docker_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <fstream>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::use_awaitable;
using Socket = asio::generic::stream_protocol::socket;

DockerEndpoint DockerEndpoint::fromEnvironment() {
  DockerEndpoint ep;
  const char* env = std::getenv("DOCKER_HOST");
  if (env == nullptr || *env == '\0') return ep;
  std::string_view value(env);
  if (value.starts_with("unix://")) {
    ep.path = std::string(value.substr(7));
    return ep;
  }
  if (value.starts_with("tcp://")) {
    auto rest = value.substr(6);
    if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
    auto colon = rest.rfind(':');
    ep.kind = Kind::tcp;
    ep.host = std::string(rest.substr(0, colon));
    ep.port = colon == std::string_view::npos ? "2375" : std::string(rest.substr(colon + 1));
    return ep;
  }
  throw Error(errc::invalid_request,
              fmt::format("Unsupported DOCKER_HOST \"{}\": use unix:///path/to/docker.sock or tcp://host:port", value));
}

std::string DockerEndpoint::describe() const {
  return kind == Kind::unix_socket ? "unix://" + path : fmt::format("tcp://{}:{}", host, port);
}

std::string dockerUnavailableMessage(const DockerEndpoint& endpoint, const std::string& cause) {
  return fmt::format(
      "Docker is not running or not installed.\n"
      "  Could not reach the Docker engine at {} ({}).\n"
      "  Install it:  apt-get install -y docker.io   (or see https://docs.docker.com/engine/install/)\n"
      "  Start it:    systemctl start docker   or   setsid dockerd >/var/log/dockerd.log 2>&1 &",
      endpoint.describe(), cause);
}

namespace {

// Closes the socket when the limit passes, so that a frozen engine (accepting, never
// answering) fails the call instead of hanging it. Destroy it before the socket.
class Deadline {
 public:
  Deadline(Socket& socket, std::chrono::milliseconds limit) : timer_(socket.get_executor()), socket_(socket) {
    arm(limit);
  }
  ~Deadline() { disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Starts the limit over (streams: the time without a byte).
  void arm(std::chrono::milliseconds limit) {
    disarm();
    state_ = std::make_shared<State>();
    limit_ = limit;
    timer_.expires_after(limit);
    timer_.async_wait([state = state_, &socket = socket_](const boost::system::error_code& ec) {
      if (ec || state->disarmed) return;
      state->expired = true;
      boost::system::error_code ignored;
      socket.close(ignored);
    });
  }
  void disarm() {
    if (!state_) return;
    state_->disarmed = true;  // a handler already queued must not touch the socket
    timer_.cancel();
  }
  bool expired() const { return state_ && state_->expired; }
  std::chrono::milliseconds limit() const { return limit_; }

 private:
  struct State {
    bool disarmed = false;
    bool expired = false;
  };
  asio::steady_timer timer_;
  Socket& socket_;
  std::shared_ptr<State> state_;
  std::chrono::milliseconds limit_{0};
};

Error timedOut(const DockerEndpoint& ep, std::chrono::milliseconds limit, std::string_view what) {
  return Error(errc::docker_unavailable, fmt::format("The Docker engine at {} did not answer within {} ms ({})",
                                                     ep.describe(), limit.count(), what));
}

// Opens `socket` to the engine (under the caller's deadline).
asio::awaitable<void> connectTo(const DockerEndpoint& ep, Socket& socket, const Deadline& deadline, std::string_view what) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  if (ep.kind == DockerEndpoint::Kind::unix_socket) {
    asio::generic::stream_protocol::endpoint target{asio::local::stream_protocol::endpoint(ep.path)};
    socket.open(target.protocol(), ec);
    if (!ec) std::tie(ec) = co_await socket.async_connect(target, asio::as_tuple(use_awaitable));
    if (!ec) co_return;
  } else {
    asio::ip::tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(ep.host, ep.port, asio::as_tuple(use_awaitable));
    ec = rec;
    for (const auto& entry : results) {
      asio::generic::stream_protocol::endpoint target{entry.endpoint()};
      boost::system::error_code ignored;
      socket.close(ignored);
      socket.open(target.protocol(), ec);
      if (!ec) std::tie(ec) = co_await socket.async_connect(target, asio::as_tuple(use_awaitable));
      if (!ec) co_return;
    }
  }
  if (deadline.expired()) throw timedOut(ep, deadline.limit(), what);
  throw Error(errc::docker_unavailable, dockerUnavailableMessage(ep, ec.message()));
}

http::request<http::string_body> makeRequest(std::string_view method, const std::string& target, std::string body,
                                              std::string_view contentType) {
  http::request<http::string_body> req{http::string_to_verb(method), std::string(kDockerApiPrefix) + target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::user_agent, "isol8");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, contentType);
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

// Connects and writes the request; the caller reads the response from `socket`.
asio::awaitable<void> sendRequest(const DockerEndpoint& ep, Socket& socket, const Deadline& deadline,
                                  http::request<http::string_body> req) {
  const std::string what = std::string(req.method_string().data(), req.method_string().size()) + " " +
                           std::string(req.target().data(), req.target().size());
  co_await connectTo(ep, socket, deadline, what);
  auto [ec, written] = co_await http::async_write(socket, req, asio::as_tuple(use_awaitable));
  if (deadline.expired()) throw timedOut(ep, deadline.limit(), what);
  if (ec) throw Error(errc::docker_unavailable, dockerUnavailableMessage(ep, ec.message()));
  (void)written;
}

std::string errorMessageOf(const std::string& body) {
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (auto* m = value.as_object().if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  }
  return trim(body);
}

class SocketExecConnection final : public ExecConnection {
 public:
  SocketExecConnection(Socket socket, std::string leftover) : socket_(std::move(socket)), leftover_(std::move(leftover)) {}

  asio::awaitable<std::size_t> readSome(char* buffer, std::size_t size) override {
    if (!leftover_.empty()) {
      std::size_t n = std::min(size, leftover_.size());
      std::copy_n(leftover_.data(), n, buffer);
      leftover_.erase(0, n);
      co_return n;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer, size), asio::as_tuple(use_awaitable));
    if (ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
        ec == asio::error::connection_reset)
      co_return 0;
    if (ec) throw Error(errc::docker_error, "reading exec output: " + ec.message());
    co_return n;
  }

  asio::awaitable<void> write(std::string_view data) override {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data), asio::as_tuple(use_awaitable));
    // The process may exit without reading its stdin: a broken pipe is not our error.
    if (ec && ec != asio::error::broken_pipe && ec != asio::error::connection_reset)
      throw Error(errc::docker_error, "writing exec stdin: " + ec.message());
    (void)n;
  }

  void closeStdin() override {
    boost::system::error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
  }

  void close() override {
    boost::system::error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  Socket socket_;
  std::string leftover_;
};

}  // namespace

DockerClient::DockerClient(DockerEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

std::chrono::milliseconds DockerClient::buildQuietLimit() const {
  // A build step (a package manager fetching, a compiler) may print nothing for minutes.
  return std::max<std::chrono::milliseconds>(timeout_, kBuildQuietLimit);
}

asio::awaitable<DockerClient::Response> DockerClient::request(std::string_view method, const std::string& target,
                                                              std::string body, std::string_view contentType) {
  const auto executor = co_await asio::this_coro::executor;
  Socket socket(executor);
  const Deadline deadline(socket, timeout_);
  co_await sendRequest(endpoint_, socket, deadline, makeRequest(method, target, std::move(body), contentType));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  auto [rec, read] = co_await http::async_read(socket, buffer, parser, asio::as_tuple(use_awaitable));
  if (deadline.expired()) throw timedOut(endpoint_, timeout_, fmt::format("{} {}", method, target));
  if (rec) throw Error(errc::docker_error, fmt::format("{} {}: {}", method, target, rec.message()));
  (void)read;
  auto res = parser.release();
  co_return Response{res.result_int(), std::move(res.body())};
}

asio::awaitable<DockerClient::Response> DockerClient::checked(std::string_view method, const std::string& target,
                                                              std::string body, std::string_view contentType) {
  auto res = co_await request(method, target, std::move(body), contentType);
  if (res.status >= 400) throw DockerApiError(res.status, errorMessageOf(res.body));
  co_return res;
}

// Reads a streaming JSON-lines response (build, pull, import progress) message by message.
asio::awaitable<void> DockerClient::streamLines(std::string_view method, const std::string& target, std::string body,
                                                std::string_view contentType,
                                                const std::function<void(const json::object&)>& onMessage,
                                                std::chrono::milliseconds quietLimit) {
  // A build or pull may run for long: the limit is on silence, restarted by every chunk.
  const auto executor = co_await asio::this_coro::executor;
  Socket socket(executor);
  Deadline deadline(socket, quietLimit);
  const auto what = [&] { return fmt::format("{} {}", method, target); };
  co_await sendRequest(endpoint_, socket, deadline, makeRequest(method, target, std::move(body), contentType));
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await http::async_read_header(socket, buffer, parser, asio::as_tuple(use_awaitable));
  if (deadline.expired()) throw timedOut(endpoint_, quietLimit, what());
  if (hec) throw Error(errc::docker_error, fmt::format("{} {}: {}", method, target, hec.message()));
  (void)hn;
  unsigned status = parser.get().result_int();
  std::string pending;
  std::vector<char> chunk(16384);  // not a local array: see process_runner.cpp
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    deadline.arm(quietLimit);
    auto [ec, n] = co_await http::async_read_some(socket, buffer, parser, asio::as_tuple(use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (deadline.expired()) throw timedOut(endpoint_, quietLimit, what());
    if (ec) throw Error(errc::docker_error, fmt::format("{} {}: {}", method, target, ec.message()));
    (void)n;
    pending.append(chunk.data(), chunk.size() - parser.get().body().size);
    if (status >= 400) continue;
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      if (trim(line).empty()) continue;
      boost::system::error_code pec;
      auto value = json::parse(line, pec);
      if (!pec && value.is_object()) onMessage(value.as_object());
    }
    pending.erase(0, start);
  }
  if (status >= 400) throw DockerApiError(status, errorMessageOf(pending));
  if (!trim(pending).empty()) {
    boost::system::error_code pec;
    auto value = json::parse(pending, pec);
    if (!pec && value.is_object()) onMessage(value.as_object());
  }
}

asio::awaitable<void> DockerClient::ping() {
  auto res = co_await request("GET", "/_ping");
  if (res.status != 200)
    throw Error(errc::docker_unavailable, dockerUnavailableMessage(endpoint_, fmt::format("HTTP {}", res.status)));
}

asio::awaitable<json::object> DockerClient::version() {
  auto res = co_await checked("GET", "/version");
  co_return json::parse(res.body).as_object();
}

asio::awaitable<std::optional<json::object>> DockerClient::inspectImage(const std::string& name) {
  auto res = co_await request("GET", "/images/" + urlEncode(name) + "/json");
  if (res.status == 404) co_return std::nullopt;
  if (res.status >= 400) throw DockerApiError(res.status, errorMessageOf(res.body));
  co_return json::parse(res.body).as_object();
}

asio::awaitable<json::array> DockerClient::listImages(const json::object& filters) {
  auto res = co_await checked("GET", "/images/json?filters=" + urlEncode(json::serialize(filters)));
  co_return json::parse(res.body).as_array();
}

asio::awaitable<void> DockerClient::buildImage(std::string contextTar, const std::string& query, LineHandler onLine) {
  std::string failure;
  co_await streamLines(
      "POST", "/build?" + query, std::move(contextTar), "application/x-tar",
      [&](const json::object& m) {
        if (auto* s = m.if_contains("stream"); s && s->is_string() && onLine) onLine(s->as_string());
        if (auto* e = m.if_contains("error"); e && e->is_string()) failure = std::string(e->as_string());
      },
      buildQuietLimit());
  if (!failure.empty()) throw Error(errc::image_build_failed, failure);
}

asio::awaitable<void> DockerClient::importImage(const std::string& tarPath, const std::string& repo,
                                                const std::string& tag, const std::vector<std::string>& changes) {
  std::ifstream in(tarPath, std::ios::binary);
  if (!in) throw Error(errc::io_error, "cannot read " + tarPath);
  std::ostringstream content;
  content << in.rdbuf();
  std::string query = "/images/create?fromSrc=-&repo=" + urlEncode(repo) + "&tag=" + urlEncode(tag);
  for (const auto& change : changes) query += "&changes=" + urlEncode(change);
  std::string failure;
  co_await streamLines(
      "POST", query, std::move(content).str(), "application/x-tar",
      [&](const json::object& m) {
        if (auto* e = m.if_contains("error"); e && e->is_string()) failure = std::string(e->as_string());
      },
      buildQuietLimit());
  if (!failure.empty()) throw Error(errc::image_build_failed, "docker import failed: " + failure);
}

asio::awaitable<void> DockerClient::pullImage(const std::string& image, const std::string& tag, LineHandler onLine) {
  std::string failure;
  co_await streamLines("POST", "/images/create?fromImage=" + urlEncode(image) + "&tag=" + urlEncode(tag), {},
                       "application/json", [&](const json::object& m) {
                         if (auto* s = m.if_contains("status"); s && s->is_string() && onLine) onLine(s->as_string());
                         if (auto* e = m.if_contains("error"); e && e->is_string())
                           failure = std::string(e->as_string());
                       },
                       buildQuietLimit());
  if (!failure.empty()) throw Error(errc::docker_error, failure);
}

asio::awaitable<void> DockerClient::removeImage(const std::string& name, bool force) {
  auto res = co_await request("DELETE", "/images/" + urlEncode(name) + (force ? "?force=true" : ""));
  if (res.status >= 400 && res.status != 404) throw DockerApiError(res.status, errorMessageOf(res.body));
}

asio::awaitable<void> DockerClient::pruneImages(const json::object& filters) {
  co_await checked("POST", "/images/prune?filters=" + urlEncode(json::serialize(filters)));
}

asio::awaitable<std::string> DockerClient::createContainer(const json::object& spec, const std::string& name) {
  std::string target = "/containers/create";
  if (!name.empty()) target += "?name=" + urlEncode(name);
  auto res = co_await checked("POST", target, json::serialize(spec));
  co_return std::string(json::parse(res.body).as_object().at("Id").as_string());
}

asio::awaitable<void> DockerClient::startContainer(const std::string& id) {
  co_await checked("POST", "/containers/" + id + "/start");
}

asio::awaitable<json::object> DockerClient::inspectContainer(const std::string& id) {
  auto res = co_await checked("GET", "/containers/" + id + "/json");
  co_return json::parse(res.body).as_object();
}

asio::awaitable<void> DockerClient::killContainer(const std::string& id, const std::string& signal) {
  auto res = co_await request("POST", "/containers/" + id + "/kill?signal=" + signal);
  // 409: not running any more; 404: gone. Both mean the goal is reached.
  if (res.status >= 400 && res.status != 404 && res.status != 409)
    throw DockerApiError(res.status, errorMessageOf(res.body));
}

asio::awaitable<void> DockerClient::removeContainer(const std::string& id) {
  // Asked again until the engine says the container is gone: Docker 20.10 can fail both a
  // forced DELETE ("cannot remove - container is not running") and the AutoRemove racing it
  // ("removal already in progress"), which leaves it "Removal In Progress" for good.
  Response res;
  for (int attempt = 0; attempt < 60; ++attempt) {
    res = co_await request("DELETE", "/containers/" + id + "?force=true&v=true");
    if (res.status < 400 || res.status == 404) co_return;
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
    co_await pause.async_wait(use_awaitable);
  }
  throw DockerApiError(res.status, errorMessageOf(res.body));
}

asio::awaitable<json::array> DockerClient::listContainers(const json::object& filters, bool all) {
  auto res = co_await checked(
      "GET", fmt::format("/containers/json?all={}&filters={}", all ? "true" : "false", urlEncode(json::serialize(filters))));
  co_return json::parse(res.body).as_array();
}

asio::awaitable<std::int64_t> DockerClient::waitContainer(const std::string& id) {
  auto res = co_await checked("POST", "/containers/" + id + "/wait");
  co_return json::parse(res.body).as_object().at("StatusCode").to_number<std::int64_t>();
}

asio::awaitable<void> DockerClient::events(const json::object& filters, std::int64_t since, std::int64_t until,
                                           const std::function<void(const json::object&)>& onEvent) {
  // Quiet until `until` is normal: the limit counts from then.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  const auto wait = std::chrono::seconds(std::max<std::int64_t>(0, until - now.count()));
  co_await streamLines("GET",
                       fmt::format("/events?since={}&until={}&filters={}", since, until, urlEncode(json::serialize(filters))),
                       {}, "application/json", onEvent, timeout_ + wait);
}

asio::awaitable<std::string> DockerClient::createExec(const std::string& containerId, const json::object& spec) {
  auto res = co_await checked("POST", "/containers/" + containerId + "/exec", json::serialize(spec));
  co_return std::string(json::parse(res.body).as_object().at("Id").as_string());
}

namespace {

// Sends a request that asks the engine to hand over the raw connection (exec start, attach):
// what follows the response header is the multiplexed stream, and half-closing it ends stdin.
asio::awaitable<std::unique_ptr<ExecConnection>> hijack(const DockerEndpoint& endpoint, std::chrono::milliseconds limit,
                                                         std::string_view what, http::request<http::string_body> req) {
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "tcp");
  const auto executor = co_await asio::this_coro::executor;
  Socket socket(executor);
  std::optional<Deadline> deadline(std::in_place, socket, limit);  // the handshake only: the stream is long-lived
  co_await sendRequest(endpoint, socket, *deadline, std::move(req));
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the body that follows is the raw stream, not HTTP
  auto [rec, n] = co_await http::async_read_header(socket, buffer, parser, asio::as_tuple(use_awaitable));
  if (deadline->expired()) throw timedOut(endpoint, limit, what);
  deadline.reset();
  if (rec) throw Error(errc::docker_error, fmt::format("{}: {}", what, rec.message()));
  (void)n;
  unsigned status = parser.get().result_int();
  if (status != 101 && status != 200) {
    std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
    throw DockerApiError(status, errorMessageOf(rest));
  }
  std::string leftover(static_cast<const char*>(buffer.data().data()), buffer.size());
  co_return std::make_unique<SocketExecConnection>(std::move(socket), std::move(leftover));
}

}  // namespace

asio::awaitable<std::unique_ptr<ExecConnection>> DockerClient::startExec(const std::string& execId) {
  co_return co_await hijack(endpoint_, timeout_, "exec start",
                            makeRequest("POST", "/exec/" + execId + "/start", R"({"Detach":false,"Tty":false})",
                                        "application/json"));
}

asio::awaitable<std::unique_ptr<ExecConnection>> DockerClient::attachContainer(const std::string& id) {
  co_return co_await hijack(endpoint_, timeout_, "attach",
                            makeRequest("POST", "/containers/" + id + "/attach?stream=1&stdin=1&stdout=1&stderr=1", {},
                                        "application/json"));
}

asio::awaitable<ExecState> DockerClient::inspectExec(const std::string& execId) {
  auto res = co_await checked("GET", "/exec/" + execId + "/json");
  auto obj = json::parse(res.body).as_object();
  ExecState state;
  state.running = obj.at("Running").as_bool();
  if (auto* code = obj.if_contains("ExitCode"); code && code->is_int64()) state.exitCode = static_cast<int>(code->as_int64());
  if (auto* pid = obj.if_contains("Pid"); pid && pid->is_int64()) state.pid = pid->as_int64();
  co_return state;
}

asio::awaitable<void> DockerClient::putArchive(const std::string& id, const std::string& path, std::string tar) {
  co_await checked("PUT", "/containers/" + id + "/archive?path=" + urlEncode(path), std::move(tar), "application/x-tar");
}

asio::awaitable<std::string> DockerClient::getArchive(const std::string& id, const std::string& path) {
  auto res = co_await checked("GET", "/containers/" + id + "/archive?path=" + urlEncode(path));
  co_return std::move(res.body);
}

}  // namespace isol8::detail
