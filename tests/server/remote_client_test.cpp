// RemoteIsol8 against a scripted HTTP server (no Docker, no isol8-server): what goes on the
// wire, how answers and failures are read, and the WebSocket-to-SSE fallback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/sha.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "isol8/remote_isol8.hpp"
#include "util/text.hpp"

using namespace isol8;
namespace json = boost::json;

namespace {

struct SeenRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One connection at a time: reads a request, writes what the handler returns, closes.
class FakeServer {
 public:
  using Handler = std::function<std::string(const SeenRequest&)>;
  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 16) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int count(const std::string& method, const std::string& target) const {
    int n = 0;
    for (const auto& r : requests()) n += r.method == method && r.target == target;
    return n;
  }

 private:
  void serve() {
    for (;;) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      SeenRequest request;
      if (read(client, request)) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        const std::string response = handler_(request);
        for (std::size_t sent = 0; sent < response.size();) {
          const auto n = ::write(client, response.data() + sent, response.size() - sent);
          if (n <= 0) break;
          sent += static_cast<std::size_t>(n);
        }
      }
      ::close(client);
    }
  }

  static bool read(int client, SeenRequest& request) {
    std::string data;
    char buffer[4096];
    std::size_t headerEnd;
    while ((headerEnd = data.find("\r\n\r\n")) == std::string::npos) {
      const auto n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    std::istringstream head(data.substr(0, headerEnd));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    first >> request.method >> request.target;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers[lower(line.substr(0, colon))] = value;
    }
    request.body = data.substr(headerEnd + 4);
    const auto length = request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
    while (request.body.size() < length) {
      const auto n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      request.body.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
};

std::string respond(int status, const std::string& body, const std::string& type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// An SSE body as isol8-server sends it: no length, ends when the connection closes.
std::string sseResponse(const std::string& frames) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n" +
         frames;
}

// Accepts a WebSocket upgrade (RFC 6455's Sec-WebSocket-Accept), then the connection closes.
std::string acceptUpgrade(const SeenRequest& r) {
  const std::string key = r.headers.at("sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  const std::string accept =
      isol8::detail::base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         accept + "\r\n\r\n";
}

ExecutionRequest pythonRequest(const std::string& code) {
  ExecutionRequest r;
  r.runtime = "python";
  r.code = code;
  return r;
}

std::vector<StreamEvent> drain(ExecutionStream stream) {
  std::vector<StreamEvent> events;
  for (const auto& e : stream) events.push_back(e);
  return events;
}

}  // namespace

TEST_CASE("RemoteIsol8 client: execute sends the key, JSON, request, options and session", "[remote-client]") {
  FakeServer server([](const SeenRequest&) {
    return respond(200, R"({"stdout":"hi\n","stderr":"","exitCode":3,"durationMs":5,"truncated":false})");
  });
  EngineOptions options;
  options.memoryLimit = "256m";
  RemoteIsol8 remote(RemoteOptions{server.url() + "/", "k-123", "s-1"}, options);
  const auto result = remote.execute(pythonRequest("print('hi')"));
  CHECK(result.stdoutText == "hi\n");
  CHECK(result.exitCode == 3);

  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/execute");  // the host's trailing '/' is not doubled
  CHECK(r.headers.at("authorization") == "Bearer k-123");
  CHECK(r.headers.at("content-type") == "application/json");
  const auto body = json::parse(r.body).as_object();
  CHECK(body.at("request").at("code").as_string() == "print('hi')");
  CHECK(body.at("options").at("memoryLimit").as_string() == "256m");
  CHECK_FALSE(body.at("options").as_object().contains("cpuLimit"));  // defaults are not sent
  CHECK(body.at("sessionId").as_string() == "s-1");
}

TEST_CASE("RemoteIsol8 client: failures carry the server's error", "[remote-client]") {
  FakeServer server([](const SeenRequest& r) {
    if (r.target == "/health") return respond(503, "{}");
    if (r.target == "/execute") return respond(500, R"({"error":"Cannot switch runtime"})");
    if (r.target == "/sessions") return respond(403, "not json");
    return respond(404, "404 Not Found", "text/plain");
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "k", std::nullopt});
  CHECK_THROWS_WITH(remote.start(), "Remote server health check failed: 503");
  try {
    remote.execute(pythonRequest("1"));
    FAIL("no exception");
  } catch (const RemoteError& e) {
    CHECK(e.status() == 500);
    CHECK(e.code() == errc::server_error);
    CHECK(std::string(e.what()) == "Execution failed: Cannot switch runtime");
  }
  CHECK_THROWS_WITH(remote.listSessions(), "Failed to list sessions: Status");  // the status text
  CHECK_THROWS_WITH(remote.deleteSession("x"), "Failed to delete session: Status");
  CHECK_THROWS_WITH(remote.putFile("/sandbox/a", "x"), "File operations require a sessionId (persistent mode)");
  CHECK_THROWS_WITH(remote.getFile("/sandbox/a"), "File operations require a sessionId (persistent mode)");
}

TEST_CASE("RemoteIsol8 client: an unreachable server is an io_error", "[remote-client]") {
  int port = 0;
  {
    FakeServer gone([](const SeenRequest&) { return std::string(); });
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  RemoteIsol8 remote(RemoteOptions{"http://127.0.0.1:" + std::to_string(port), "k", std::nullopt});
  try {
    remote.execute(pythonRequest("1"));
    FAIL("no exception");
  } catch (const RemoteError& e) {
    CHECK(e.status() == 0);
    CHECK(e.code() == errc::io_error);
    CHECK_THAT(e.what(), Catch::Contains("Cannot reach the isol8 server"));
  }
}

TEST_CASE("RemoteIsol8 client: files, sessions and login", "[remote-client]") {
  FakeServer server([](const SeenRequest& r) {
    if (r.method == "POST" && r.target == "/file") return respond(200, R"({"ok":true})");
    if (r.method == "GET" && r.target.starts_with("/file?")) return respond(200, R"({"content":"AAH/"})");
    if (r.target == "/sessions")
      return respond(200, R"({"sessions":[{"id":"a","isActive":true,"lastAccessedAt":"2026-01-01T00:00:00.000Z"}]})");
    if (r.target == "/auth/login") return respond(200, R"({"token":"isol8_x","expiresAt":"2026-01-02T00:00:00.000Z","keyId":"id1"})");
    return respond(200, R"({"ok":true})");
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "k", "s 1/é"});
  remote.putFile("/sandbox/a.bin", std::string("\0\1\xff", 3));
  CHECK(remote.getFile("/sandbox/x y.bin") == std::string("\0\1\xff", 3));
  const auto sessions = remote.listSessions();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].id == "a");
  CHECK(sessions[0].isActive);
  CHECK(sessions[0].lastAccessedAt == "2026-01-01T00:00:00.000Z");
  LoginOptions login;
  login.name = "n";
  login.ttlMs = 1000;
  const auto grant = remote.login(login);
  CHECK(grant.token == "isol8_x");
  CHECK(grant.keyId == "id1");
  remote.stop();

  const auto requests = server.requests();
  REQUIRE(requests.size() == 5);
  const auto upload = json::parse(requests[0].body).as_object();
  CHECK(upload.at("sessionId").as_string() == "s 1/é");
  CHECK(upload.at("path").as_string() == "/sandbox/a.bin");
  CHECK(upload.at("content").as_string() == "AAH/");
  CHECK(requests[1].target == "/file?sessionId=s%201%2F%C3%A9&path=%2Fsandbox%2Fx%20y.bin");
  CHECK(requests[1].headers.at("authorization") == "Bearer k");
  CHECK(json::parse(requests[3].body) == json::parse(R"({"name":"n","ttlMs":1000})"));
  CHECK(requests[4].method == "DELETE");  // stop(): the session goes
  CHECK(requests[4].target == "/session/s%201%2F%C3%A9");
}

TEST_CASE("RemoteIsol8 client: no WebSocket route -> SSE, keep-alives skipped, remembered", "[remote-client]") {
  FakeServer server([](const SeenRequest& r) {
    if (r.target == "/execute/ws") return respond(404, "404 Not Found", "text/plain");
    return sseResponse(": keep-alive\n\ndata: {\"type\":\"stdout\",\"data\":\"a\",\"phase\":\"code\"}\r\n\r\n"
                       ": keep-alive\n\n"
                       "data: {\"type\":\"exit\",\"data\":\"0\",\"phase\":\"code\"}\n\n");
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "k", "s1"});
  for (int i = 0; i < 2; ++i) {
    const auto events = drain(remote.executeStream(pythonRequest("print('a')")));
    REQUIRE(events.size() == 2);
    CHECK(events[0].type == StreamEvent::Type::stdout_data);
    CHECK(events[0].data == "a");
    CHECK(events[1].type == StreamEvent::Type::exit);
    CHECK(events[1].data == "0");
  }
  CHECK(server.count("GET", "/execute/ws") == 1);  // tried once, then SSE directly
  CHECK(server.count("POST", "/execute/stream") == 2);
  const auto sse = server.requests().back();
  CHECK(sse.headers.at("authorization") == "Bearer k");
  CHECK(json::parse(sse.body).at("sessionId").as_string() == "s1");
}

TEST_CASE("RemoteIsol8 client: a refused key on the upgrade is an error, not a fallback", "[remote-client]") {
  FakeServer server([](const SeenRequest& r) {
    if (r.target == "/execute/ws") return respond(403, R"({"error":"Invalid API key"})");
    return sseResponse("data: {\"type\":\"exit\",\"data\":\"0\"}\n\n");
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "bad", std::nullopt});
  const auto events = drain(remote.executeStream(pythonRequest("1")));
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == StreamEvent::Type::error);
  CHECK(events[0].data == "Stream failed: Invalid API key");
  CHECK(events[1].type == StreamEvent::Type::exit);
  CHECK(events[1].data == "1");
  CHECK(server.count("POST", "/execute/stream") == 0);
  CHECK(server.requests().at(0).headers.at("authorization") == "Bearer bad");
}

TEST_CASE("RemoteIsol8 client: an SSE error status and a body cut short", "[remote-client]") {
  std::atomic<int> calls{0};
  FakeServer server([&](const SeenRequest& r) {
    if (r.target == "/execute/ws") return respond(426, "");
    if (calls++ == 0) return respond(500, R"({"error":"engine down"})");
    return sseResponse("data: {\"type\":\"stdout\",\"data\":\"partial\"}\n\n");  // no exit: connection lost
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "k", std::nullopt});
  auto first = drain(remote.executeStream(pythonRequest("1")));
  REQUIRE(first.size() == 2);
  CHECK(first[0].data == "Stream failed: engine down");
  CHECK(first[1].data == "1");
  auto second = drain(remote.executeStream(pythonRequest("1")));
  REQUIRE(second.size() == 3);
  CHECK(second[0].data == "partial");
  CHECK(second[1].type == StreamEvent::Type::error);
  CHECK(second[2].type == StreamEvent::Type::exit);
}

TEST_CASE("RemoteIsol8 client: a WebSocket lost after the upgrade is an error, never a rerun over SSE",
          "[remote-client]") {
  FakeServer server([](const SeenRequest& r) {
    if (r.target == "/execute/ws") return acceptUpgrade(r);
    return sseResponse("data: {\"type\":\"exit\",\"data\":\"0\"}\n\n");
  });
  RemoteIsol8 remote(RemoteOptions{server.url(), "k", std::nullopt});
  const auto events = drain(remote.executeStream(pythonRequest("1")));
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == StreamEvent::Type::error);
  CHECK_THAT(events[0].data, Catch::Contains("Connection to the isol8 server lost"));
  CHECK(events[1].data == "1");
  CHECK(server.count("POST", "/execute/stream") == 0);
  drain(remote.executeStream(pythonRequest("1")));
  CHECK(server.count("GET", "/execute/ws") == 2);  // the route exists: still the first choice
}
