// The egress proxy without Docker: the proxy on a unix socket, a small HTTP server on
// 127.0.0.1, and a client speaking to the socket as the relay inside a sandbox would.
#include "network/egress_proxy.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "isol8/error.hpp"
#include "support.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using isol8::NetworkFilter;
using isol8::detail::EgressProxy;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Answers each request with 200 and a body echoing the head and body it received, so tests see
// what the proxy forwarded. GET /hang is never answered. Counts the connections it accepts.
class TestServer {
 public:
  explicit TestServer(asio::io_context& io) : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, acceptLoop(this), asio::detached);
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  std::string lastRequest() {
    std::lock_guard lock(mutex_);
    return lastRequest_;
  }
  void close() { acceptor_.close(); }

 private:
  static asio::awaitable<void> acceptLoop(TestServer* self) {
    for (;;) {
      auto [error, socket] = co_await self->acceptor_.async_accept(kTuple);
      if (error) co_return;
      ++self->connections_;
      asio::co_spawn(self->acceptor_.get_executor(), serve(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> serve(TestServer* self, tcp::socket socket) {
    std::string buffer;
    const std::string_view headEnd = "\r\n\r\n";
    auto [error, headSize] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), headEnd, kTuple);
    if (error) co_return;
    std::string head = buffer.substr(0, headSize);
    std::string body = buffer.substr(headSize);
    std::smatch match;
    if (std::regex_search(head, match, std::regex("Content-Length: (\\d+)\r\n", std::regex::icase))) {
      const std::size_t length = std::stoul(match[1]);
      if (body.size() < length) {
        std::string rest(length - body.size(), '\0');
        auto [bodyError, n] = co_await asio::async_read(socket, asio::buffer(rest), kTuple);
        if (bodyError) co_return;
        body += rest;
      }
    } else if (head.find("Transfer-Encoding: chunked") != std::string::npos) {
      const std::string_view lastChunk = "0\r\n\r\n";
      while (body.find(lastChunk) == std::string::npos) {
        std::string more;
        auto [bodyError, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(more), lastChunk, kTuple);
        if (bodyError) co_return;
        body += more;
      }
    }
    {
      std::lock_guard lock(self->mutex_);
      self->lastRequest_ = head + body;
    }
    if (head.rfind("GET /hang ", 0) == 0) {
      asio::steady_timer forever(socket.get_executor(), std::chrono::hours(1));
      co_await forever.async_wait(kTuple);
      co_return;
    }
    const std::string payload = "echo:" + head + body;
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(payload.size()) + "\r\nConnection: close\r\n\r\n" + payload;
    co_await asio::async_write(socket, asio::buffer(response), kTuple);
  }

  tcp::acceptor acceptor_;
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::string lastRequest_;
};

// The proxy and the test server on an io_context running on its own thread.
class Harness {
 public:
  explicit Harness(const NetworkFilter& filter, EgressProxy::Limits limits = {})
      : work_(io_.get_executor()), server_(io_), proxy_(io_.get_executor(), filter, limits) {
    socketPath = dir_.path + "/proxy.sock";
    proxy_.listen(socketPath, "run-1");
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs `f` on the io_context's thread (where the proxy lives) and returns its result.
  template <typename F>
  auto onIo(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ~Harness() {
    onIo([this] {
      proxy_.closeAll();
      server_.close();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  std::vector<isol8::NetworkLogEntry> logs() {
    return onIo([this] { return proxy_.takeLogs("run-1"); });
  }
  std::vector<isol8::SecurityEvent> events() {
    return onIo([this] { return proxy_.takeSecurityEvents("run-1"); });
  }
  void close() {
    onIo([this] { proxy_.close("run-1"); });
  }
  TestServer& server() { return server_; }
  int port() const { return server_.port(); }

  std::string socketPath;

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  isol8::test::TempDir dir_;
  TestServer server_;
  EgressProxy proxy_;
  std::thread thread_;
};

// A blocking unix-socket client, as the relay in a sandbox; every read gives up after 10 s.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      sent += static_cast<std::size_t>(n);
    }
  }
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // Everything up to and including `delimiter`.
  std::string readUntil(const std::string& delimiter) {
    for (;;) {
      if (const auto at = buffer_.find(delimiter); at != std::string::npos) {
        std::string out = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return out;
      }
      if (!fill()) {
        FAIL("connection ended before " << delimiter << "; got: " << buffer_);
      }
    }
  }
  // Everything until the proxy closes its side.
  std::string readAll() {
    while (fill()) {
    }
    return std::exchange(buffer_, {});
  }

 private:
  bool fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) FAIL("timed out waiting for the proxy");
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// One request on a new connection; the whole answer.
std::string roundTrip(const std::string& socketPath, const std::string& request) {
  Client client(socketPath);
  client.send(request);
  return client.readAll();
}

std::string forbidden(const std::string& body) {
  return "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

bool isIsoTimestamp(const std::string& text) {
  return std::regex_match(text, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))"));
}

// Loopback may be reached by name, as a test server stands in for the internet.
NetworkFilter loopbackAllowed() {
  NetworkFilter filter;
  filter.whitelist = {"^localhost$"};
  filter.allowedAddresses = {"127.0.0.1/32", "::1/128"};  // localhost may also resolve to ::1
  return filter;
}

}  // namespace

TEST_CASE("egress proxy: an allowed CONNECT relays bytes both ways", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  Client client(harness.socketPath);
  client.send("CONNECT localhost:" + std::to_string(harness.port()) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(client.readUntil("\r\n\r\n") == "HTTP/1.1 200 Connection Established\r\n\r\n");
  client.send("GET /through-the-tunnel HTTP/1.1\r\nHost: localhost\r\n\r\n");
  const std::string response = client.readAll();  // the server closes after answering
  CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(response.find("echo:GET /through-the-tunnel HTTP/1.1\r\nHost: localhost\r\n\r\n") != std::string::npos);
  CHECK(harness.server().connections() == 1);

  const auto logs = harness.logs();
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].method == "CONNECT");
  CHECK(logs[0].host == "localhost");
  CHECK_FALSE(logs[0].path.has_value());
  CHECK(logs[0].action == "ALLOW");
  CHECK(logs[0].durationMs == 0);
  CHECK(isIsoTimestamp(logs[0].timestamp));
  CHECK(harness.events().empty());
  CHECK(harness.logs().empty());  // taken
}

TEST_CASE("egress proxy: CONNECT bytes sent before the 200 are forwarded", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  Client client(harness.socketPath);
  client.send("CONNECT localhost:" + std::to_string(harness.port()) +
              " HTTP/1.1\r\n\r\nGET /eager HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(client.readUntil("\r\n\r\n") == "HTTP/1.1 200 Connection Established\r\n\r\n");
  CHECK(client.readAll().find("echo:GET /eager HTTP/1.1") != std::string::npos);
}

TEST_CASE("egress proxy: absolute-URI requests are forwarded in origin-form", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  const std::string authority = "localhost:" + std::to_string(harness.port());

  SECTION("GET") {
    const std::string response = roundTrip(harness.socketPath,
                                          "GET http://LocalHost:" + std::to_string(harness.port()) +
                                              "/hello?x=1 HTTP/1.1\r\n"
                                              "Host: somewhere.else\r\n"
                                              "Proxy-Authorization: Basic dTpw\r\n"
                                              "Proxy-Connection: keep-alive\r\n"
                                              "Connection: keep-alive\r\n"
                                              "Accept: */*\r\n\r\n");
    CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(harness.server().lastRequest() ==
          "GET /hello?x=1 HTTP/1.1\r\nHost: " + authority + "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    const auto logs = harness.logs();
    REQUIRE(logs.size() == 1);
    CHECK(logs[0].method == "GET");
    CHECK(logs[0].host == "localhost");
    CHECK(logs[0].path == std::optional<std::string>("/hello?x=1"));
    CHECK(logs[0].action == "ALLOW");
    CHECK(logs[0].durationMs >= 0);
    CHECK(isIsoTimestamp(logs[0].timestamp));
  }
  SECTION("POST with Content-Length: exactly the body, nothing after it") {
    const std::string response = roundTrip(harness.socketPath, "POST http://" + authority +
                                                                  "/up HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
                                                                  "helloGET /smuggled HTTP/1.1\r\n\r\n");
    CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(harness.server().lastRequest() ==
          "POST /up HTTP/1.1\r\nHost: " + authority + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  }
  SECTION("POST with a chunked body sent in pieces") {
    Client client(harness.socketPath);
    client.send("POST http://" + authority + "/chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    client.send("ki\r\n0\r\n\r\n");
    CHECK(client.readAll().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(harness.server().lastRequest() == "POST /chunks HTTP/1.1\r\nHost: " + authority +
                                                "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                                "4\r\nWiki\r\n0\r\n\r\n");
  }
}

TEST_CASE("egress proxy: hosts the filter refuses get 403 and no connection", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  CHECK(roundTrip(harness.socketPath, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n") ==
        forbidden("isol8: CONNECT to example.com blocked by network filter"));
  CHECK(roundTrip(harness.socketPath, "GET http://Example.COM/x HTTP/1.1\r\nHost: example.com\r\n\r\n") ==
        forbidden("isol8: request to example.com blocked by network filter"));
  CHECK(harness.server().connections() == 0);

  const auto logs = harness.logs();
  REQUIRE(logs.size() == 2);
  CHECK(logs[0].method == "CONNECT");
  CHECK(logs[0].host == "example.com");
  CHECK_FALSE(logs[0].path.has_value());
  CHECK(logs[0].action == "BLOCK");
  CHECK(logs[0].durationMs == 0);
  CHECK(logs[1].method == "GET");
  CHECK(logs[1].host == "example.com");
  CHECK(logs[1].path == std::optional<std::string>("/x"));
  CHECK(logs[1].action == "BLOCK");

  const auto events = harness.events();
  REQUIRE(events.size() == 2);
  for (const auto& event : events) {
    CHECK(event.type == "network_blocked");
    CHECK(event.message == "Security event: network_blocked");
    CHECK(event.details.at("host") == "example.com");
    CHECK(event.details.at("reason") == "filter_mismatch");
    CHECK(event.details.size() == 3);
    CHECK(isIsoTimestamp(event.timestamp));
  }
  CHECK(events[0].details.at("method") == "CONNECT");
  CHECK(events[1].details.at("method") == "GET");
}

TEST_CASE("egress proxy: upper case cannot bypass a deny rule", "[integration][egress_proxy]") {
  NetworkFilter filter;
  filter.blacklist = {"^localhost$"};
  filter.allowedAddresses = {"127.0.0.1/32", "::1/128"};  // only the filter stands in the way
  Harness harness(filter);
  const std::string port = std::to_string(harness.port());
  CHECK(roundTrip(harness.socketPath, "CONNECT LOCALHOST:" + port + " HTTP/1.1\r\n\r\n") ==
        forbidden("isol8: CONNECT to localhost blocked by network filter"));
  CHECK(roundTrip(harness.socketPath, "CONNECT LocalHost.:" + port + " HTTP/1.1\r\n\r\n") ==
        forbidden("isol8: CONNECT to localhost blocked by network filter"));
  CHECK(roundTrip(harness.socketPath, "GET http://LOCALHOST:" + port + "/ HTTP/1.1\r\n\r\n") ==
        forbidden("isol8: request to localhost blocked by network filter"));
  CHECK(harness.server().connections() == 0);
  const auto logs = harness.logs();
  REQUIRE(logs.size() == 3);
  for (const auto& entry : logs) {
    CHECK(entry.host == "localhost");
    CHECK(entry.action == "BLOCK");
  }
}

TEST_CASE("egress proxy: private, loopback and metadata addresses are refused", "[integration][egress_proxy]") {
  Harness harness(NetworkFilter{});  // no filter, no exemption
  const std::string port = std::to_string(harness.port());
  struct Case {
    std::string host;
    std::string address;
    std::string range;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1", "127.0.0.1", "loopback 127.0.0.0/8"},
      {"[::1]", "::1", "loopback ::1"},
      {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "IPv4-mapped: loopback 127.0.0.0/8"},
      {"169.254.169.254", "169.254.169.254", "cloud metadata 169.254.169.254"},
      {"10.0.0.1", "10.0.0.1", "private 10.0.0.0/8"},
      {"[fd00:ec2::254]", "fd00:ec2::254", "unique local fc00::/7"},
  };
  for (const auto& c : cases) {
    INFO(c.host);
    CHECK(roundTrip(harness.socketPath, "CONNECT " + c.host + ":" + port + " HTTP/1.1\r\n\r\n") ==
          forbidden("isol8: CONNECT to " + c.host + " blocked: address " + c.address + " is not allowed (" + c.range +
                    ")"));
  }
  // A name is judged by what it resolves to: localhost is loopback.
  const std::string byName = roundTrip(harness.socketPath, "GET http://localhost:" + port + "/ HTTP/1.1\r\n\r\n");
  CHECK(byName.rfind("HTTP/1.1 403 Forbidden\r\n", 0) == 0);
  CHECK(std::regex_search(byName, std::regex("isol8: request to localhost blocked: address (127\\.0\\.0\\.1|::1) is "
                                             "not allowed \\(loopback")));
  CHECK(harness.server().connections() == 0);

  const auto logs = harness.logs();
  REQUIRE(logs.size() == cases.size() + 1);
  for (const auto& entry : logs) CHECK(entry.action == "BLOCK");
  const auto events = harness.events();
  REQUIRE(events.size() == cases.size() + 1);
  for (const auto& event : events) CHECK(event.details.at("reason") == "private_address");
  CHECK(events.back().details.at("host") == "localhost");
  CHECK(events.back().details.at("method") == "GET");
}

TEST_CASE("egress proxy: numeric hosts that are not dotted quads are refused unresolved",
          "[integration][egress_proxy]") {
  Harness harness(NetworkFilter{{}, {}, {"0.0.0.0/0", "::/0"}});  // even with every address allowed
  const std::string port = std::to_string(harness.port());
  for (const std::string host : {"2130706433", "0x7f.1", "127.1", "0177.0.0.1"}) {
    INFO(host);
    CHECK(roundTrip(harness.socketPath, "CONNECT " + host + ":" + port + " HTTP/1.1\r\n\r\n") ==
          forbidden("isol8: CONNECT to " + host + " blocked: invalid host name"));
  }
  CHECK(harness.server().connections() == 0);
  for (const auto& event : harness.events()) CHECK(event.details.at("reason") == "invalid_host");
}

TEST_CASE("egress proxy: 502 when the upstream refuses the connection", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  const std::string closedPort = std::to_string(isol8::test::freeLoopbackPort());
  const std::string failed = "isol8: proxy error: connection to localhost:" + closedPort + " failed";
  const std::string expected = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: " +
                               std::to_string(failed.size()) + "\r\nConnection: close\r\n\r\n" + failed;
  CHECK(roundTrip(harness.socketPath, "CONNECT localhost:" + closedPort + " HTTP/1.1\r\n\r\n") == expected);
  CHECK(roundTrip(harness.socketPath, "GET http://localhost:" + closedPort + "/ HTTP/1.1\r\n\r\n") == expected);
  const auto logs = harness.logs();  // the policy allowed them
  REQUIRE(logs.size() == 2);
  CHECK(logs[0].action == "ALLOW");
  CHECK(logs[1].action == "ALLOW");
  CHECK(harness.events().empty());
}

TEST_CASE("egress proxy: malformed and oversized requests", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  CHECK(roundTrip(harness.socketPath, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").rfind("HTTP/1.1 400 Bad Request\r\n", 0) ==
        0);
  CHECK(roundTrip(harness.socketPath, "hello\r\n\r\n").rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(roundTrip(harness.socketPath, "GET https://localhost/ HTTP/1.1\r\n\r\n")
            .rfind("HTTP/1.1 501 Not Implemented\r\n", 0) == 0);
  const std::string huge = "GET http://localhost/ HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  CHECK(roundTrip(harness.socketPath, huge).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(harness.server().connections() == 0);
  CHECK(harness.logs().empty());  // no request to speak of
}

TEST_CASE("egress proxy: a client that sends no head is dropped", "[integration][egress_proxy]") {
  EgressProxy::Limits limits;
  limits.headTimeout = std::chrono::milliseconds(200);
  Harness harness(loopbackAllowed(), limits);
  Client client(harness.socketPath);
  client.send("CONNECT localhost");
  const auto start = std::chrono::steady_clock::now();
  CHECK(client.readAll().empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("egress proxy: close() ends open connections, logs them, removes the socket", "[integration][egress_proxy]") {
  Harness harness(loopbackAllowed());
  const std::string port = std::to_string(harness.port());
  struct stat info {};
  REQUIRE(::stat(harness.socketPath.c_str(), &info) == 0);
  CHECK(S_ISSOCK(info.st_mode));
  CHECK((info.st_mode & 0777) == 0666);

  Client tunnel(harness.socketPath);
  tunnel.send("CONNECT localhost:" + port + " HTTP/1.1\r\n\r\n");
  CHECK(tunnel.readUntil("\r\n\r\n") == "HTTP/1.1 200 Connection Established\r\n\r\n");
  Client hanging(harness.socketPath);
  hanging.send("GET http://localhost:" + port + "/hang HTTP/1.1\r\n\r\n");
  for (int i = 0; i < 100 && harness.server().lastRequest().find("/hang") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(harness.server().lastRequest().rfind("GET /hang HTTP/1.1\r\n", 0) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a measurable duration

  harness.close();
  CHECK(tunnel.readAll().empty());
  CHECK(hanging.readAll().empty());
  CHECK(::stat(harness.socketPath.c_str(), &info) != 0);
  const auto logs = harness.logs();  // the in-flight GET is logged at close
  REQUIRE(logs.size() == 2);
  CHECK(logs[0].method == "CONNECT");
  CHECK(logs[1].method == "GET");
  CHECK(logs[1].path == std::optional<std::string>("/hang"));
  CHECK(logs[1].action == "ALLOW");
  CHECK(logs[1].durationMs > 0);
}

TEST_CASE("egress proxy: invalid policies are refused up front", "[integration][egress_proxy]") {
  asio::io_context io;
  CHECK_THROWS_AS(EgressProxy(io.get_executor(), NetworkFilter{{"("}, {}, {}}), isol8::Error);
  CHECK_THROWS_AS(EgressProxy(io.get_executor(), NetworkFilter{{}, {}, {"10.0.0.0/33"}}), isol8::Error);
  isol8::test::TempDir dir;
  EgressProxy proxy(io.get_executor(), NetworkFilter{});
  proxy.listen(dir.path + "/a.sock", "a");
  CHECK_THROWS_AS(proxy.listen(dir.path + "/b.sock", "a"), isol8::Error);
  CHECK_THROWS_AS(proxy.listen(dir.path, "b"), isol8::Error);  // not a socket
  proxy.close("a");
  proxy.listen(dir.path + "/a.sock", "a");  // the id is free again
}
