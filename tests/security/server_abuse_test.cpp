// Attacks that try to starve a real isol8-server: connections and descriptors, slow or large
// bodies, option sets, sessions, request floods, runs whose client left. Each case attacks a
// running server and asserts the limit that config.server names held, at and just past it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server_fixture.hpp"

using namespace isol8::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// ---- raw sockets: the attacks need what an HTTP client would not do -----------------------

struct Socket {
  int fd = -1;
  Socket() = default;
  explicit Socket(int f) : fd(f) {}
  Socket(Socket&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

// A connection to 127.0.0.1:port from `source` (another loopback address is another client).
Socket connectFrom(int port, const char* source = "127.0.0.1") {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(s.fd >= 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  REQUIRE(::bind(s.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<unsigned short>(port));
  inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  REQUIRE(::connect(s.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
  return s;
}

void sendAll(const Socket& s, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(s.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct Received {
  std::string data;
  bool closed = false;  // the server closed (or reset) the connection
};

// What the server sends until it closes the connection or `within` passes.
Received receiveUntilClosed(const Socket& s, milliseconds within) {
  Received r;
  const auto deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    pollfd p{s.fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left, 0))) <= 0) break;
    char buffer[4096];
    const auto n = ::recv(s.fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      r.closed = true;
      break;
    }
    r.data.append(buffer, static_cast<std::size_t>(n));
  }
  return r;
}

// True when the server has neither sent anything nor closed: poll without waiting.
bool stillOpen(const Socket& s) {
  pollfd p{s.fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

std::string requestHead(const std::string& method, const std::string& path, std::size_t contentLength,
                        const std::string& key) {
  std::string head = method + " " + path +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n";
  if (!key.empty()) head += "Authorization: Bearer " + key + "\r\n";
  return head + "Content-Length: " + std::to_string(contentLength) + "\r\n\r\n";
}

// ---- the server process, seen from /proc ---------------------------------------------------

std::size_t openDescriptors(int pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

// A line's first number from /proc/<pid>/status, e.g. VmHWM (kB).
long statusValue(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// utime + stime of the process, in clock ticks.
long cpuTicks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  return utime + stime;
}

// The share of one core the server used over a measuring window of `window`.
double cpuShare(int pid, milliseconds window) {
  const long before = cpuTicks(pid);
  const auto start = Clock::now();
  std::this_thread::sleep_for(window);  // a measuring window, not a wait for anything
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(cpuTicks(pid) - before) / static_cast<double>(sysconf(_SC_CLK_TCK)) / seconds;
}

// Polls `check` until it holds or `within` passes.
template <typename Check>
bool eventually(Check check, milliseconds within = milliseconds(10000)) {
  const auto deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(milliseconds(50));  // polling, bounded by the deadline
  }
  return check();
}

bool healthy(const ServerProcess& server) {
  try {
    return httpRequest("GET", server.url() + "/health").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

// The server's config: no prewarmed pools (these tests need none), plus `server` keys.
ServerLaunch launchWith(const std::string& serverKeys, const std::string& extra = "") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[])" + (serverKeys.empty() ? "" : "," + serverKeys) + "}" +
                      (extra.empty() ? "" : "," + extra) + "}";
  return launch;
}

// Sets this process's open-files soft limit (the server started next inherits it).
void setSoftFileLimit(rlim_t soft) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min(soft, limit.rlim_max);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
}

std::string executeBody(const std::string& runtime, const std::string& code, const std::string& options = "",
                        const std::string& sessionId = "") {
  json::object body{{"request", json::object{{"runtime", runtime}, {"code", code}}}};
  if (!options.empty()) body["options"] = json::parse(options);
  if (!sessionId.empty()) body["sessionId"] = sessionId;
  return json::serialize(body);
}

HttpResponse post(const ServerProcess& server, const std::string& path, const std::string& body,
                  const std::string& key = "") {
  return httpRequest("POST", server.url() + path, body, {bearer(key.empty() ? server.masterKey() : key)});
}

}  // namespace

// ---- connections and descriptors ----------------------------------------------------------

TEST_CASE("attack: connections past server.maxConnections are closed at once", "[security][server]") {
  ServerProcess server(launchWith(R"("maxConnections":6,"maxConnectionsPerIp":100)"));
  std::vector<Socket> idle;
  for (int i = 0; i < 6; ++i) idle.push_back(connectFrom(server.port()));
  Socket extra = connectFrom(server.port());
  // Accepted in order: the 7th is closed, so the 6 before it were taken and are kept.
  CHECK(receiveUntilClosed(extra, milliseconds(5000)).closed);
  for (const auto& s : idle) CHECK(stillOpen(s));
  CHECK_FALSE(healthy(server));
  idle.pop_back();  // one leaves: a new client is served again
  CHECK(eventually([&] { return healthy(server); }));
}

TEST_CASE("attack: connections past server.maxConnectionsPerIp are closed, other addresses still served",
          "[security][server]") {
  ServerProcess server(launchWith(R"("maxConnections":5,"maxConnectionsPerIp":3)"));
  std::vector<Socket> held;
  for (int i = 0; i < 3; ++i) held.push_back(connectFrom(server.port(), "127.0.0.1"));
  Socket sameAddress = connectFrom(server.port(), "127.0.0.1");
  CHECK(receiveUntilClosed(sameAddress, milliseconds(5000)).closed);
  for (int i = 0; i < 2; ++i) held.push_back(connectFrom(server.port(), "127.0.0.2"));
  Socket pastTotal = connectFrom(server.port(), "127.0.0.2");
  CHECK(receiveUntilClosed(pastTotal, milliseconds(5000)).closed);
  for (const auto& s : held) CHECK(stillOpen(s));
}

TEST_CASE("attack: 1,100 idle connections neither exhaust descriptors nor spin the server", "[security][server]") {
  // The server starts with the common soft limit of 1024 open files (ours, inherited); it
  // must raise it to the hard limit and keep serving other clients.
  rlimit ours{};
  getrlimit(RLIMIT_NOFILE, &ours);
  setSoftFileLimit(1024);
  ServerProcess server(launchWith(""));
  setSoftFileLimit(ours.rlim_max);
  {
    std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
    std::string line;
    while (std::getline(limits, line) && !line.starts_with("Max open files")) {
    }
    std::istringstream fields(line.substr(std::string("Max open files").size()));
    std::string soft, hard;
    fields >> soft >> hard;
    CHECK(soft == hard);
  }
  std::vector<Socket> idle;
  for (int i = 0; i < 1100; ++i) idle.push_back(connectFrom(server.port(), "127.0.0.1"));
  CHECK_FALSE(healthy(server));  // 127.0.0.1 is at its cap...
  std::size_t fds = openDescriptors(server.pid());
  const double cpu = cpuShare(server.pid(), milliseconds(2000));
  std::printf("1,100 idle connections: server fds %zu, CPU %.0f%% of a core\n", fds, cpu * 100);
  CHECK(fds < 400);  // the per-address cap (256) and the server's own
  CHECK(cpu < 0.2);
  // ... another client is still served.
  Socket other = connectFrom(server.port(), "127.0.0.2");
  sendAll(other, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  CHECK(receiveUntilClosed(other, milliseconds(5000)).data.starts_with("HTTP/1.1 200"));
}

TEST_CASE("attack: running out of descriptors does not make the accept loop spin", "[security][server]") {
  ServerProcess server(launchWith(""));
  // Leave the server a few descriptors only, then connect past them.
  const rlimit tight{openDescriptors(server.pid()) + 6, openDescriptors(server.pid()) + 6};
  REQUIRE(prlimit(server.pid(), RLIMIT_NOFILE, &tight, nullptr) == 0);
  std::vector<Socket> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(connectFrom(server.port()));
  const double cpu = cpuShare(server.pid(), milliseconds(2000));
  std::printf("accept with no descriptor left: server CPU %.0f%% of a core\n", cpu * 100);
  CHECK(cpu < 0.2);
  clients.clear();
  CHECK(eventually([&] { return healthy(server); }));
}

TEST_CASE("attack: a header sent slowly is cut off after server.headerTimeoutMs", "[security][server]") {
  ServerProcess server(launchWith(R"("headerTimeoutMs":1000)"));
  Socket slow = connectFrom(server.port());
  sendAll(slow, "POST /execute HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  const auto start = Clock::now();
  CHECK(receiveUntilClosed(slow, milliseconds(8000)).closed);
  CHECK(Clock::now() - start < milliseconds(5000));
  Socket silent = connectFrom(server.port());  // one that sends nothing at all
  CHECK(receiveUntilClosed(silent, milliseconds(8000)).closed);
  CHECK(healthy(server));  // a header sent at once is served
}

// ---- bodies -----------------------------------------------------------------------------------

TEST_CASE("attack: a body is not read before the key is checked", "[security][server]") {
  ServerProcess server(launchWith(""));
  for (const std::string key : {"", "wrong-key"}) {
    INFO("key: " << key);
    Socket s = connectFrom(server.port());
    // A 50 MB body is announced but never sent: the answer must not wait for it.
    sendAll(s, requestHead("POST", "/execute", 50'000'000, key));
    const Received r = receiveUntilClosed(s, milliseconds(5000));
    CHECK(r.closed);
    CHECK(r.data.starts_with(key.empty() ? "HTTP/1.1 401" : "HTTP/1.1 403"));
  }
}

TEST_CASE("attack: bodies past server.maxBodySize and server.maxBodiesInFlight are refused before reading",
          "[security][server]") {
  ServerProcess server(launchWith(R"("maxBodySize":"60000","maxBodiesInFlight":"100000")"));
  const std::string key = server.masterKey();
  // A: 60000 bytes announced (the most one body may be), 10 sent; it holds its share.
  Socket a = connectFrom(server.port());
  sendAll(a, requestHead("POST", "/execute", 60000, key) + "{\"request\"");
  // One byte more than maxBodySize: 413 at once.
  Socket tooBig = connectFrom(server.port());
  sendAll(tooBig, requestHead("POST", "/execute", 60001, key));
  const Received big = receiveUntilClosed(tooBig, milliseconds(5000));
  CHECK(big.data.starts_with("HTTP/1.1 413"));
  CHECK(big.data.find("server.maxBodySize") != std::string::npos);
  // B: 40000 more is exactly maxBodiesInFlight: read and answered (400: no such runtime).
  std::string bodyB = executeBody("nope", "x");
  bodyB.insert(bodyB.size() - 1, std::string(40000 - bodyB.size(), ' '));
  Socket b = connectFrom(server.port());
  sendAll(b, requestHead("POST", "/execute", bodyB.size(), key) + bodyB);
  CHECK(receiveUntilClosed(b, milliseconds(5000)).data.starts_with("HTTP/1.1 400"));
  // C: 40001 while A still holds 60000: one byte past the limit, 503 without reading.
  Socket c = connectFrom(server.port());
  sendAll(c, requestHead("POST", "/execute", 40001, key));
  const Received busy = receiveUntilClosed(c, milliseconds(5000));
  CHECK(busy.data.starts_with("HTTP/1.1 503"));
  CHECK(busy.data.find("server.maxBodiesInFlight") != std::string::npos);
  CHECK(stillOpen(a));
}

TEST_CASE("attack: a 20 MiB body does not cost many times its size to parse", "[security][server]") {
  ServerProcess server(launchWith(""));
  // Code of 20 MiB in a request that is refused after parsing (no such runtime): the peak
  // memory is the transport's and the parser's alone.
  const std::string body = executeBody("nope", std::string(20u << 20, 'x'));
  const long before = statusValue(server.pid(), "VmHWM");
  CHECK(post(server, "/execute", body).status == 400);
  const long grown = (statusValue(server.pid(), "VmHWM") - before) / 1024;
  std::printf("20 MiB body: server peak RSS grew by %ld MiB\n", grown);
  CHECK(grown < 60);  // 20 MiB each for the JSON and the request built from it
}

// ---- options ----------------------------------------------------------------------------------

TEST_CASE("attack: ill-formed options get 400 naming the field on every route", "[security][server]") {
  ServerProcess server(launchWith(""));
  const std::pair<std::string, std::string> bad[] = {
      {R"({"memoryLimit":"abc"})", "options.memoryLimit"},
      {R"({"sandboxSize":"lots"})", "options.sandboxSize"},
      {R"({"tmpSize":5})", "options.tmpSize"},
      {R"({"cpuLimit":"2"})", "options.cpuLimit"},
      {R"({"pidsLimit":-1})", "options.pidsLimit"},
      {R"({"maxOutputSize":1.5})", "options.maxOutputSize"},
      {R"({"timeoutMs":"1"})", "options.timeoutMs"},
      {R"({"network":"bogus"})", "options.network"},
      {R"({"debug":"yes"})", "options.debug"},
      {R"({"persist":1})", "options.persist"},
      {R"({"security":{"seccomp":"off"}})", "options.security.seccomp"},
      {R"({"secrets":[1]})", "options.secrets"},
      {R"({"networkFilter":{"whitelist":3}})", "options.networkFilter.whitelist"},
      {R"({"image":5})", "options.image"},
  };
  for (const auto& [options, field] : bad) {
    INFO(options);
    const std::string body = executeBody("python", "print(1)", options);
    const auto buffered = post(server, "/execute", body);
    CHECK(buffered.status == 400);
    CHECK(buffered.body.find(field) != std::string::npos);
    const auto streamed = post(server, "/execute/stream", body);
    CHECK(streamed.status == 400);
    CHECK(streamed.body.find(field) != std::string::npos);
  }
  // WebSocket: an error event naming the field, then the close, not a socket held open.
  json::object message = json::parse(executeBody("python", "print(1)", R"({"memoryLimit":"abc"})")).as_object();
  message["type"] = "execute";
  const auto ws = wsExchange(server.url(), {bearer(server.masterKey())}, {json::serialize(message)}, 100000,
                             milliseconds(10000));
  CHECK_FALSE(ws.timedOut);
  REQUIRE(ws.messages.size() == 1);
  CHECK(ws.messages[0].find("\"error\"") != std::string::npos);
  CHECK(ws.messages[0].find("options.memoryLimit") != std::string::npos);
  CHECK(ws.closeCode != 0);
}

TEST_CASE("attack: cpuLimit below Docker's minimum of 0.01 is refused, not run unlimited", "[security][server]") {
  ServerProcess server(launchWith(""));
  for (const std::string cpu : {"1e-10", "0.0099"}) {
    INFO(cpu);
    const auto r = post(server, "/execute", executeBody("bash", "echo hi", R"({"cpuLimit":)" + cpu + "}"));
    CHECK(r.status == 400);
    CHECK(r.body.find("options.cpuLimit") != std::string::npos);
  }
  const auto atMinimum = post(server, "/execute", executeBody("bash", "echo hi", R"({"cpuLimit":0.01})"));
  CHECK(atMinimum.status == 200);
}

TEST_CASE("attack: a burst of distinct option sets stays within server.maxEngines", "[security][server]") {
  ServerProcess server(launchWith(R"("maxEngines":2)", R"("maxConcurrent":40)"));
  // 30 requests at once, each with its own option set (pidsLimit), each busy for a while.
  std::vector<std::future<HttpResponse>> replies;
  for (int i = 0; i < 30; ++i)
    replies.push_back(std::async(std::launch::async, [&server, i] {
      return post(server, "/execute", executeBody("bash", "sleep 6", R"({"pidsLimit":)" + std::to_string(10 + i) + "}"));
    }));
  int ok = 0, refused = 0;
  for (auto& reply : replies) {
    const HttpResponse r = reply.get();
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++refused;
      CHECK(r.body.find("server.maxEngines") != std::string::npos);
    }
  }
  CHECK(ok == 2);  // the cap's worth run...
  CHECK(refused == 28);  // ... and the rest are told why, none gets an engine of its own
}

// ---- sessions and request rates ---------------------------------------------------------------

TEST_CASE("attack: sessions past server.maxSessionsPerTenant and server.maxSessions get 429", "[security][server]") {
  ServerLaunch launch = launchWith(R"("maxSessionsPerTenant":2,"maxSessions":3)");
  launch.authDb = (std::filesystem::temp_directory_path() /
                   ("isol8-abuse-" + std::to_string(::getpid()) + "-" + std::to_string(Clock::now().time_since_epoch().count()) + ".db"))
                      .string();
  ServerProcess server(launch);
  const auto created = parseObject(post(server, "/auth/keys", R"({"name":"t1","tenantId":"t1"})").body);
  const std::string tenantKey = str(created.at("key"));
  const std::string run = "echo hi";
  CHECK(post(server, "/execute", executeBody("bash", run, "", "s1")).status == 200);
  CHECK(post(server, "/execute", executeBody("bash", run, "", "s2")).status == 200);  // at the tenant cap
  const auto third = post(server, "/execute", executeBody("bash", run, "", "s3"));
  CHECK(third.status == 429);
  CHECK(third.body.find("server.maxSessionsPerTenant") != std::string::npos);
  CHECK(post(server, "/execute", executeBody("bash", run, "", "s1")).status == 200);  // its own still work
  CHECK(post(server, "/execute", executeBody("bash", run, "", "t-1"), tenantKey).status == 200);  // total 3
  const auto pastTotal = post(server, "/execute", executeBody("bash", run, "", "t-2"), tenantKey);
  CHECK(pastTotal.status == 429);
  CHECK(pastTotal.body.find("server.maxSessions") != std::string::npos);
  std::filesystem::remove(*launch.authDb);
}

TEST_CASE("attack: one key's flood past server.rateLimitPerMinute gets 429 with Retry-After", "[security][server]") {
  ServerProcess server(launchWith(R"("rateLimitPerMinute":5)"));
  for (int i = 0; i < 5; ++i)
    CHECK(httpRequest("GET", server.url() + "/sessions", "", {bearer(server.masterKey())}).status == 200);
  const auto flood = httpRequest("GET", server.url() + "/sessions", "", {bearer(server.masterKey())});
  CHECK(flood.status == 429);
  CHECK(flood.body.find("server.rateLimitPerMinute") != std::string::npos);
  CHECK(std::stoi(flood.header("retry-after").empty() ? "0" : flood.header("retry-after")) >= 1);
  CHECK(healthy(server));  // /health needs no key and counts against none
}

// ---- runs whose client left ------------------------------------------------------------------

namespace {

// Sends a buffered execute on a connection of its own and leaves at once, without the answer.
void sendAndLeave(const ServerProcess& server, const std::string& body) {
  Socket client = connectFrom(server.port());
  sendAll(client, requestHead("POST", "/execute", body.size(), server.masterKey()) + body);
}

bool sessionHasFile(const ServerProcess& server, const std::string& session, const std::string& path) {
  return httpRequest("GET", server.url() + "/file?sessionId=" + session + "&path=" + path, "",
                     {bearer(server.masterKey())})
             .status == 200;
}

}  // namespace

// Whether the caller's session `id` has a run in flight (GET /sessions: isActive).
bool sessionActive(const ServerProcess& server, const std::string& id) {
  const auto list = parseObject(httpRequest("GET", server.url() + "/sessions", "", {bearer(server.masterKey())}).body);
  for (const auto& session : list.at("sessions").as_array())
    if (str(session.at("id")) == id) return session.at("isActive").as_bool();
  return false;
}

TEST_CASE("attack: a running buffered run whose client left is stopped", "[security][server]") {
  ServerProcess server(launchWith("", R"("defaults":{"timeoutMs":120000})"));
  {
    // A minute's run; its client stays until the run is in flight, then leaves.
    const std::string body = executeBody("bash", "sleep 60", "", "gone");
    Socket client = connectFrom(server.port());
    sendAll(client, requestHead("POST", "/execute", body.size(), server.masterKey()) + body);
    REQUIRE(eventually([&] { return sessionActive(server, "gone"); }, milliseconds(30000)));
  }
  // Stopped long before its minute.
  CHECK(eventually([&] { return !sessionActive(server, "gone"); }, milliseconds(15000)));
  const auto probe = post(server, "/execute", executeBody("bash", "cat /proc/[0-9]*/comm | grep -cx sleep", "", "gone"));
  CHECK(probe.body.find("\"stdout\":\"0\\n\"") != std::string::npos);
}

TEST_CASE("attack: a queued buffered run whose client left never starts", "[security][server]") {
  ServerProcess server(launchWith("", R"("maxConcurrent":1)"));
  // A run holds the only permit; a second client queues behind it, then leaves.
  auto holder = std::async(std::launch::async, [&] {
    return post(server, "/execute", executeBody("bash", "touch /tmp/holding; sleep 4", "", "q"));
  });
  REQUIRE(eventually([&] { return sessionHasFile(server, "q", "/tmp/holding"); }, milliseconds(30000)));
  sendAndLeave(server, executeBody("bash", "touch /tmp/queued-ran", "", "q"));
  CHECK(holder.get().status == 200);
  CHECK(post(server, "/execute", executeBody("bash", "echo checked", "", "q")).status == 200);
  CHECK_FALSE(sessionHasFile(server, "q", "/tmp/queued-ran"));
}

// ---- files ------------------------------------------------------------------------------------

TEST_CASE("attack: the audit log and its directory are private to the server's user", "[security][server]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("isol8-audit-" + std::to_string(::getpid()) + "-" + std::to_string(Clock::now().time_since_epoch().count()));
  ServerProcess server(launchWith("", R"("audit":{"enabled":true,"logDir":")" + (dir / "logs").string() + "\"}"));
  CHECK(post(server, "/execute", executeBody("bash", "echo hi")).status == 200);
  struct stat st {};
  REQUIRE(::stat((dir / "logs").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((dir / "logs" / "executions.log").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::filesystem::remove_all(dir);
}
