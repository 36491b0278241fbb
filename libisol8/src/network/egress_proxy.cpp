#include "network/egress_proxy.hpp"

#include "network/asio_address.hpp"

#include <algorithm>

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "isol8/error.hpp"
#include "network/address_policy.hpp"
#include "network/host_policy.hpp"
#include "network/proxy_http.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using UnixProtocol = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;
using Limits = EgressProxy::Limits;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Writing one of the proxy's own responses and waiting for the client to hang up.
constexpr std::chrono::seconds kResponseTimeout{10};
constexpr std::size_t kRelayBuffer = 16 * 1024;
constexpr std::size_t kMaxDrain = 1024 * 1024;

struct Policies {
  HostPolicy hosts;
  AddressPolicy addresses;
};

class Connection;

struct Listener {
  Listener(asio::any_io_executor executor, std::string id, std::string path, std::size_t maxRecords, Logger log)
      : id(std::move(id)),
        path(std::move(path)),
        acceptor(std::move(executor)),
        maxRecords(maxRecords),
        log(std::move(log)) {}

  std::string id;
  std::string path;
  UnixProtocol::acceptor acceptor;
  bool open = true;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;
  std::uint64_t nextConnectionId = 0;
  std::vector<NetworkLogEntry> logs;
  std::vector<SecurityEvent> events;
  std::size_t maxRecords;
  std::vector<std::string> extraHosts;  // allowHosts(): let through despite the allow list
  Logger log;  // the engine's

  void record(NetworkLogEntry entry) {
    if (logs.size() < maxRecords) logs.push_back(std::move(entry));
  }
  void record(SecurityEvent event) {
    if (events.size() < maxRecords) events.push_back(std::move(event));
  }
};

// The addresses of this machine's interfaces, as they are now.
std::vector<IpAddress> localAddresses() {
  std::vector<IpAddress> addresses;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return addresses;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    if (entry->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      const auto* b = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
      addresses.push_back(IpAddress::ipv4(b[0], b[1], b[2], b[3]));
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr);
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &in6->sin6_addr, bytes.size());
      addresses.push_back(IpAddress::ipv6(bytes));
    }
  }
  ::freeifaddrs(list);
  return addresses;
}

// One client connection: one request, then its relay.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(UnixProtocol::socket client, std::shared_ptr<Listener> listener, std::shared_ptr<const Policies> policies,
             const Limits& limits, std::uint64_t id)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        resolver_(client_.get_executor()),
        timer_(client_.get_executor()),
        listener_(std::move(listener)),
        policies_(std::move(policies)),
        limits_(limits),
        id_(id) {}

  static awaitable<void> run(std::shared_ptr<Connection> self) {
    asio::co_spawn(self->client_.get_executor(), watchdog(self), asio::detached);
    try {
      co_await self->serve();
    } catch (const std::exception& e) {
      self->listener_->log.warning("egress proxy [{}]: {}", self->listener_->id, e.what());
    }
    self->close();
  }

  // Idempotent; records a pending log entry (a plain-HTTP request in flight).
  void close() {
    if (closed_) return;
    closed_ = true;
    flushLog();
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    resolver_.cancel();
    timer_.cancel();
    listener_->connections.erase(id_);
  }

 private:
  enum class Phase { head, connecting, relaying, responding };

  static awaitable<void> watchdog(std::shared_ptr<Connection> self) {
    while (!self->closed_) {
      self->timer_.expires_at(self->deadline_);
      co_await self->timer_.async_wait(kTuple);
      if (self->closed_) co_return;
      if (Clock::now() < self->deadline_) continue;  // moved (touch, setPhase)
      if (self->phase_ == Phase::connecting) {
        // Fail the attempt (serve answers 502) rather than the whole connection.
        self->timedOut_ = true;
        boost::system::error_code ignored;
        self->resolver_.cancel();
        self->upstream_.close(ignored);
        self->deadline_ = Clock::now() + kResponseTimeout;
        continue;
      }
      self->close();
      co_return;
    }
  }

  void setPhase(Phase phase, Clock::duration timeout) {
    phase_ = phase;
    deadline_ = Clock::now() + timeout;
    if (deadline_ < timer_.expiry()) timer_.cancel();  // the watchdog re-arms
  }
  void touch() { deadline_ = Clock::now() + limits_.idleTimeout; }

  std::string what() const { return (request_.connect ? "CONNECT to " : "request to ") + request_.host; }

  void record(const char* action, std::int64_t durationMs) {
    NetworkLogEntry entry;
    entry.timestamp = timestamp_;
    entry.method = request_.method;
    entry.host = request_.host;
    if (!request_.connect) entry.path = request_.path;
    entry.action = action;
    entry.durationMs = durationMs;
    listener_->record(std::move(entry));
  }

  // Records the entry of a plain-HTTP request once it is over (answered or abandoned).
  void flushLog() {
    if (!pendingLog_) return;
    pendingLog_ = false;
    record("ALLOW", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count());
  }

  // The policy let the request through: CONNECT is logged now, plain HTTP when it ends.
  void allow() {
    if (request_.connect) {
      record("ALLOW", 0);
    } else {
      pendingLog_ = true;
    }
  }

  awaitable<void> block(std::string reason, std::string message) {
    record("BLOCK", 0);
    SecurityEvent event;
    event.type = "network_blocked";
    event.message = "Security event: network_blocked";
    event.details = {{"method", request_.method}, {"host", request_.host}, {"reason", reason}};
    event.timestamp = timestamp_;
    listener_->record(std::move(event));
    listener_->log.debug("egress proxy [{}]: {} {} blocked ({})", listener_->id, request_.method, request_.host, reason);
    co_await respond(proxyResponse(403, "isol8: " + message));
  }

  // Sends one of the proxy's own responses, then lets the client hang up first (closing with
  // unread bytes would reset the connection and could lose the response).
  awaitable<void> respond(std::string response) {
    flushLog();
    setPhase(Phase::responding, kResponseTimeout);
    auto [writeError, written] = co_await asio::async_write(client_, asio::buffer(response), kTuple);
    if (writeError || closed_) co_return;
    boost::system::error_code ignored;
    client_.shutdown(asio::socket_base::shutdown_send, ignored);
    std::vector<char> sink(kRelayBuffer);
    std::size_t drained = 0;
    while (drained < kMaxDrain && !closed_) {
      auto [readError, n] = co_await client_.async_read_some(asio::buffer(sink), kTuple);
      if (readError) break;
      drained += n;
    }
  }

  awaitable<void> serve() {
    setPhase(Phase::head, limits_.headTimeout);
    std::string buffer;
    const std::string_view headEnd = "\r\n\r\n";
    auto [readError, headSize] =
        co_await asio::async_read_until(client_, asio::dynamic_buffer(buffer, limits_.maxHeadBytes), headEnd, kTuple);
    if (closed_) co_return;
    if (readError == asio::error::not_found) {
      co_await respond(proxyResponse(431, "isol8: request head too large"));
      co_return;
    }
    if (readError) co_return;  // the client went away (or timed out) before a whole head
    std::string leftover = buffer.substr(headSize);
    auto parsed = parseProxyRequest(std::string_view(buffer).substr(0, headSize));
    if (auto* error = std::get_if<ProxyParseError>(&parsed)) {
      co_await respond(proxyResponse(error->status, error->message));
      co_return;
    }
    request_ = std::move(std::get<ProxyRequest>(parsed));
    started_ = Clock::now();
    timestamp_ = isoTimestampNow();

    if (!isValidHost(request_.host)) {
      co_await block("invalid_host", what() + " blocked: invalid host name");
      co_return;
    }
    const HostVerdict verdict = policies_->hosts.check(request_.host);
    const bool extra = verdict == HostVerdict::not_allowed &&
                       std::find(listener_->extraHosts.begin(), listener_->extraHosts.end(),
                                 normalizeHost(request_.host)) != listener_->extraHosts.end();
    if (verdict != HostVerdict::allowed && !extra) {
      co_await block("filter_mismatch", what() + " blocked by network filter");
      co_return;
    }

    setPhase(Phase::connecting, limits_.connectTimeout);
    std::vector<tcp::endpoint> endpoints;
    if (auto literal = parseIpLiteral(request_.host)) {
      endpoints.emplace_back(toAsio(*literal), request_.port);
    } else {
      const std::string service = std::to_string(request_.port);
      auto [resolveError, results] =
          co_await resolver_.async_resolve(request_.host, service, tcp::resolver::numeric_service, kTuple);
      if (closed_) co_return;
      if (!resolveError && !timedOut_) {
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
      }
      if (endpoints.empty()) {
        allow();
        co_await respond(proxyResponse(502, fmt::format("isol8: proxy error: cannot resolve {}", request_.host)));
        co_return;
      }
    }
    // Every address must pass, and only these are connected to: no second resolution.
    for (const auto& endpoint : endpoints) {
      const IpAddress address = fromAsio(endpoint.address());
      if (auto why = policies_->addresses.refusal(address)) {
        co_await block("private_address",
                       fmt::format("{} blocked: address {} is not allowed ({})", what(), address.toString(), *why));
        co_return;
      }
    }
    allow();

    bool connected = false;
    for (const auto& endpoint : endpoints) {
      if (closed_ || timedOut_) break;
      boost::system::error_code ignored;
      upstream_.close(ignored);
      auto [connectError] = co_await upstream_.async_connect(endpoint, kTuple);
      if (!connectError && !closed_ && !timedOut_) {
        connected = true;
        break;
      }
      listener_->log.debug("egress proxy [{}]: connect {} failed: {}", listener_->id, endpoint.address().to_string(),
               connectError.message());
    }
    if (closed_) co_return;
    if (!connected) {
      co_await respond(
          proxyResponse(502, fmt::format("isol8: proxy error: connection to {} failed", hostPort(request_))));
      co_return;
    }

    setPhase(Phase::relaying, limits_.idleTimeout);
    auto self = shared_from_this();
    if (request_.connect) {
      const std::string_view established = "HTTP/1.1 200 Connection Established\r\n\r\n";
      auto [writeError, written] = co_await asio::async_write(client_, asio::buffer(established), kTuple);
      if (writeError || closed_) co_return;
      if (!leftover.empty()) {  // the client did not wait for the 200
        auto [forwardError, forwarded] = co_await asio::async_write(upstream_, asio::buffer(leftover), kTuple);
        if (forwardError || closed_) co_return;
      }
      co_await (pump(self, client_, upstream_) && pump(self, upstream_, client_));
      co_return;
    }

    const std::string head = upstreamHead(request_);
    auto [headError, headWritten] = co_await asio::async_write(upstream_, asio::buffer(head), kTuple);
    if (headError || closed_) {
      co_await respond(
          proxyResponse(502, fmt::format("isol8: proxy error: connection to {} failed", hostPort(request_))));
      co_return;
    }
    if (request_.body != ProxyRequest::Body::none) {
      asio::co_spawn(client_.get_executor(), sendBody(self, std::move(leftover)), asio::detached);
    }
    // The response, until the upstream closes (the request said Connection: close).
    co_await pump(self, upstream_, client_);
  }

  // Copies bytes one way. At EOF the other side's sending half is shut (a tunnel may go on the
  // other way); any other error ends the connection.
  template <typename From, typename To>
  static awaitable<void> pump(std::shared_ptr<Connection> self, From& from, To& to) {
    std::vector<char> buffer(kRelayBuffer);
    for (;;) {
      auto [readError, n] = co_await from.async_read_some(asio::buffer(buffer), kTuple);
      if (n > 0) {
        self->touch();
        auto [writeError, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), kTuple);
        if (writeError) {
          self->close();
          co_return;
        }
        self->touch();
      }
      if (readError) {
        if (readError == asio::error::eof && !self->closed_) {
          boost::system::error_code ignored;
          to.shutdown(asio::socket_base::shutdown_send, ignored);
        } else {
          self->close();
        }
        co_return;
      }
    }
  }

  // Forwards exactly the request's body (Content-Length or chunked framing): bytes after it are
  // not part of this request and never reach the upstream.
  static awaitable<void> sendBody(std::shared_ptr<Connection> self, std::string leftover) {
    const bool chunked = self->request_.body == ProxyRequest::Body::chunked;
    std::uint64_t remaining = self->request_.contentLength;
    ChunkedBodyScanner scanner;
    std::vector<char> buffer(kRelayBuffer);
    std::string_view pending = leftover;
    for (;;) {
      if (!pending.empty()) {
        std::size_t take = 0;
        if (chunked) {
          take = scanner.feed(pending);
          if (scanner.failed()) {
            self->listener_->log.debug("egress proxy [{}]: malformed chunked body", self->listener_->id);
            self->close();
            co_return;
          }
        } else {
          take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, pending.size()));
          remaining -= take;
        }
        self->touch();
        auto [writeError, written] = co_await asio::async_write(self->upstream_, asio::buffer(pending.data(), take), kTuple);
        if (writeError) {
          self->close();
          co_return;
        }
      }
      if (chunked ? scanner.done() : remaining == 0) co_return;
      auto [readError, n] = co_await self->client_.async_read_some(asio::buffer(buffer), kTuple);
      if (readError) {  // the client hung up (or was closed) in the middle of its body
        self->close();
        co_return;
      }
      pending = std::string_view(buffer.data(), n);
    }
  }

  UnixProtocol::socket client_;
  tcp::socket upstream_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<const Policies> policies_;
  Limits limits_;
  std::uint64_t id_;

  Phase phase_ = Phase::head;
  Clock::time_point deadline_ = Clock::now();
  bool closed_ = false;
  bool timedOut_ = false;
  bool pendingLog_ = false;
  ProxyRequest request_;
  Clock::time_point started_;
  std::string timestamp_;
};

awaitable<void> acceptLoop(std::shared_ptr<Listener> listener, std::shared_ptr<const Policies> policies, Limits limits) {
  while (listener->open) {
    auto [acceptError, socket] = co_await listener->acceptor.async_accept(kTuple);
    if (!listener->open) co_return;
    if (acceptError) {
      if (acceptError == asio::error::operation_aborted) co_return;
      // Out of descriptors, say: try again in a moment rather than spin.
      listener->log.warning("egress proxy [{}]: accept failed: {}", listener->id, acceptError.message());
      asio::steady_timer pause(listener->acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (listener->connections.size() >= limits.maxConnections) {
      listener->log.warning("egress proxy [{}]: too many connections, refusing one", listener->id);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    const std::uint64_t id = listener->nextConnectionId++;
    auto connection = std::make_shared<Connection>(std::move(socket), listener, policies, limits, id);
    listener->connections.emplace(id, connection);
    asio::co_spawn(listener->acceptor.get_executor(), Connection::run(connection), asio::detached);
  }
}

}  // namespace

struct EgressProxy::State {
  asio::any_io_executor executor;
  std::shared_ptr<const Policies> policies;
  Limits limits;
  Logger log;
  std::unordered_map<std::string, std::shared_ptr<Listener>> listeners;

  // A closed listener is forgotten once nothing in it is left to take.
  void forgetIfDone(const std::string& id) {
    auto it = listeners.find(id);
    if (it != listeners.end() && !it->second->open && it->second->logs.empty() && it->second->events.empty()) {
      listeners.erase(it);
    }
  }
};

EgressProxy::EgressProxy(asio::any_io_executor executor, NetworkFilter policy, Limits limits, Logger log)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  auto policies = std::make_shared<Policies>(
      Policies{HostPolicy(policy.whitelist, policy.blacklist), AddressPolicy(policy.allowedAddresses)});
  policies->addresses.setLocalAddresses(localAddresses());
  state_->policies = std::move(policies);
  state_->limits = limits;
  state_->log = std::move(log);
}

EgressProxy::~EgressProxy() { closeAll(); }

void EgressProxy::listen(const std::string& socketPath, const std::string& listenerId) {
  auto& listeners = state_->listeners;
  auto existing = listeners.find(listenerId);
  if (existing != listeners.end() && existing->second->open) {
    throw Error(errc::invalid_request, fmt::format("Egress proxy listener {} is already listening", listenerId));
  }
  if (socketPath.empty() || socketPath.size() >= sizeof(sockaddr_un::sun_path)) {
    throw Error(errc::io_error, fmt::format("Egress proxy socket path is empty or too long: {}", socketPath));
  }
  struct stat info {};
  if (::lstat(socketPath.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode)) {
      throw Error(errc::io_error, fmt::format("Cannot listen on {}: it exists and is not a socket", socketPath));
    }
    ::unlink(socketPath.c_str());  // stale, from a run that did not clean up
  }

  // Interfaces come and go (Docker adds bridges): a new listener sees them as they are now.
  auto policies = std::make_shared<Policies>(*state_->policies);
  policies->addresses.setLocalAddresses(localAddresses());
  state_->policies = std::move(policies);

  auto listener = std::make_shared<Listener>(state_->executor, listenerId, socketPath, state_->limits.maxRecords, state_->log);
  boost::system::error_code ec;
  listener->acceptor.open(UnixProtocol(), ec);
  if (!ec) listener->acceptor.bind(UnixProtocol::endpoint(socketPath), ec);
  if (!ec) listener->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec && ::chmod(socketPath.c_str(), 0666) != 0) ec.assign(errno, boost::system::system_category());
  if (ec) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
    throw Error(errc::io_error, fmt::format("Cannot listen on {}: {}", socketPath, ec.message()));
  }
  if (existing != listeners.end()) {  // closed, with records not taken yet: keep them
    listener->logs = std::move(existing->second->logs);
    listener->events = std::move(existing->second->events);
    existing->second = listener;
  } else {
    listeners.emplace(listenerId, listener);
  }
  asio::co_spawn(state_->executor, acceptLoop(listener, state_->policies, state_->limits), asio::detached);
}

void EgressProxy::close(const std::string& listenerId) {
  auto it = state_->listeners.find(listenerId);
  if (it == state_->listeners.end()) return;
  const std::shared_ptr<Listener> listener = it->second;
  if (listener->open) {
    listener->open = false;
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
    ::unlink(listener->path.c_str());
    closeConnections(listenerId);
  }
  state_->forgetIfDone(listenerId);
}

void EgressProxy::closeConnections(const std::string& listenerId) {
  auto it = state_->listeners.find(listenerId);
  if (it == state_->listeners.end()) return;
  std::vector<std::shared_ptr<Connection>> open;
  for (const auto& [id, weak] : it->second->connections) {
    if (auto connection = weak.lock()) open.push_back(std::move(connection));
  }
  for (const auto& connection : open) connection->close();
}

void EgressProxy::closeAll() {
  std::vector<std::string> ids;
  for (const auto& [id, listener] : state_->listeners) ids.push_back(id);
  for (const auto& id : ids) close(id);
}

void EgressProxy::allowHosts(const std::string& listenerId, std::vector<std::string> hosts) {
  auto it = state_->listeners.find(listenerId);
  if (it == state_->listeners.end()) return;
  for (auto& host : hosts) host = normalizeHost(host);
  it->second->extraHosts = std::move(hosts);
}

std::vector<NetworkLogEntry> EgressProxy::takeLogs(const std::string& listenerId) {
  auto it = state_->listeners.find(listenerId);
  if (it == state_->listeners.end()) return {};
  std::vector<NetworkLogEntry> logs = std::exchange(it->second->logs, {});
  state_->forgetIfDone(listenerId);
  return logs;
}

std::vector<SecurityEvent> EgressProxy::takeSecurityEvents(const std::string& listenerId) {
  auto it = state_->listeners.find(listenerId);
  if (it == state_->listeners.end()) return {};
  std::vector<SecurityEvent> events = std::exchange(it->second->events, {});
  state_->forgetIfDone(listenerId);
  return events;
}

}  // namespace isol8::detail
