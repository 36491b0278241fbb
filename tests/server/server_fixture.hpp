// Server tests: start the real isol8-server binary on a free loopback port and talk HTTP and
// WebSocket to it with small blocking clients (Beast), so a test can send anything (bad JSON,
// no header) and see the exact bytes that come back (SSE framing).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace isol8::test {

struct ServerLaunch {
  std::string masterKey = "test-master-key";
  std::optional<std::string> authDb;    // --auth-db (SQLite path or postgres:// URL)
  std::string configJson;               // non-empty: written to a file passed as --config
  std::vector<std::string> extraArgs;   // more flags
  std::map<std::string, std::string> env;  // extra environment of the server process
};

// The server for the length of a test; stopped (SIGTERM, then SIGKILL after 20 s) when
// destroyed. The constructor returns once the server accepts connections (it throws, with
// the server's output, when it exits or does not listen within 30 s). $ISOL8_TEST_SERVER_BINARY,
// when set, names the binary to start instead of the one built with the tests (to run a test
// against an older server and watch it fail).
class ServerProcess {
 public:
  explicit ServerProcess(ServerLaunch launch = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:<port>
  const std::string& masterKey() const { return launch_.masterKey; }
  std::string output() const;  // stdout and stderr so far
  int pid() const { return pid_; }
  // SIGTERM and wait; returns the exit status (or 128+signal). Idempotent.
  int stop();

 private:
  ServerLaunch launch_;
  std::string dir_;  // temp dir: config file, output log
  int port_ = 0;
  int pid_ = -1;
  int exitStatus_ = -1;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lowerName) const;
};

// One HTTP/1.1 request on a new connection (Connection: close); `url` is
// http://host:port/path?query. A body is sent with Content-Type: application/json unless
// `headers` names another. Throws on connection errors.
HttpResponse httpRequest(const std::string& method, const std::string& url, const std::string& body = {},
                         const Headers& headers = {});
// {"Authorization", "Bearer <key>"}
std::pair<std::string, std::string> bearer(const std::string& key);

// A WebSocket client for /execute/ws.
struct WsResult {
  bool upgraded = false;       // false: the handshake was refused
  int handshakeStatus = 0;     // the HTTP status when refused (401, 403, ...)
  std::vector<std::string> messages;  // text frames received, in order
  int closeCode = 0;           // close frame's code (0: none)
  std::string closeReason;
  bool timedOut = false;       // `timeout` passed first: the exchange was cut off
};
// Connects to <serverUrl>/execute/ws with `headers`, sends each of `send` as a text frame
// (in order, without waiting), then reads until the server closes or `maxMessages` frames
// arrived (then closes itself with 1000), or until `timeout` passed.
WsResult wsExchange(const std::string& serverUrl, const Headers& headers, const std::vector<std::string>& send,
                    std::size_t maxMessages = 100000, std::chrono::milliseconds timeout = std::chrono::minutes(10));

// A response body that must be a JSON object (the test fails, showing the text, otherwise),
// and a JSON string's text.
boost::json::object parseObject(const std::string& text);
std::string str(const boost::json::value& v);

}  // namespace isol8::test
