// isol8-server, the real binary, over HTTP, SSE and WebSocket: every route's success and
// error answers, SSE framing byte for byte, sessions across requests and transports, tenants,
// keys (SQLite and PostgreSQL), the policy on client options, disconnects, prune, shutdown.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "postgres_fixture.hpp"
#include "server_fixture.hpp"
#include "support.hpp"
#include "util/text.hpp"

using namespace isol8::test;
namespace json = boost::json;
using isol8::test::parseObject;
using isol8::test::str;

namespace {

// Servers in these tests prewarm nothing unless a test says so: most never run code, and
// the ones that do wait for their container anyway.
constexpr const char* kQuietConfig = R"({"server":{"prewarm":[]}})";

ServerLaunch quiet() {
  ServerLaunch launch;
  launch.configJson = kQuietConfig;
  return launch;
}

Headers master(const ServerProcess& server) { return {bearer(server.masterKey())}; }


// {"request":{"runtime":..,"code":..}, ...extra keys of the envelope}
std::string envelope(const std::string& runtime, const std::string& code, json::object extra = {}) {
  extra["request"] = json::object{{"runtime", runtime}, {"code", code}};
  return json::serialize(extra);
}

HttpResponse post(const ServerProcess& s, const std::string& path, const std::string& body, const Headers& h) {
  return httpRequest("POST", s.url() + path, body, h);
}
HttpResponse get(const ServerProcess& s, const std::string& path, const Headers& h) {
  return httpRequest("GET", s.url() + path, {}, h);
}

void requireError(const HttpResponse& r, int status, const std::string& message) {
  INFO(r.body);
  REQUIRE(r.status == status);
  CHECK(r.header("content-type").starts_with("application/json"));
  CHECK(str(parseObject(r.body).at("error")) == message);
}

// The key database of a test: a SQLite file, or a fresh database on the test program's
// throwaway PostgreSQL server.
std::string keyDatabase(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite") return dir.path + "/auth.db";
  auto& pg = PostgresServer::shared();
  return pg.url(pg.createDatabase());
}

// A server whose key database is of `backend` (sqlite, postgres).
struct KeyedServer {
  explicit KeyedServer(const std::string& backend) : server(launchFor(backend, dir)) {}
  static ServerLaunch launchFor(const std::string& backend, const TempDir& dir) {
    ServerLaunch launch = quiet();
    launch.authDb = keyDatabase(backend, dir);
    return launch;
  }
  TempDir dir;
  ServerProcess server;
};

struct CreatedKey {
  std::string id;
  std::string key;
  std::string expiresAt;
};

CreatedKey createKey(const ServerProcess& s, const std::string& name, const std::string& tenant, long ttlMs = 0) {
  json::object body{{"name", name}, {"tenantId", tenant}};
  if (ttlMs > 0) body["ttlMs"] = ttlMs;
  auto r = post(s, "/auth/keys", json::serialize(body), master(s));
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto o = parseObject(r.body);
  return {str(o.at("id")), str(o.at("key")), str(o.at("expiresAt"))};
}

}  // namespace

// ---- authentication and errors common to all routes -------------------------------------

TEST_CASE("server: GET /health needs no key and reports the version", "[server]") {
  ServerProcess server(quiet());
  auto r = get(server, "/health", {});
  REQUIRE(r.status == 200);
  auto o = parseObject(r.body);
  CHECK(str(o.at("status")) == "ok");
  CHECK(str(o.at("version")) == ISOL8_VERSION_TEXT);
}

TEST_CASE("server: every other route answers 401 without a header and 403 with a wrong key", "[server]") {
  ServerProcess server(quiet());
  const std::vector<std::pair<std::string, std::string>> routes{
      {"POST", "/execute"},   {"POST", "/execute/stream"}, {"GET", "/execute/ws"},    {"POST", "/file"},
      {"GET", "/file"},       {"GET", "/sessions"},        {"DELETE", "/session/x"},  {"POST", "/cleanup"},
      {"POST", "/auth/keys"}, {"GET", "/auth/keys"},       {"DELETE", "/auth/keys/x"}, {"POST", "/auth/login"},
      {"GET", "/no-such-route"}};
  for (const auto& [method, path] : routes) {
    INFO(method << " " << path);
    requireError(httpRequest(method, server.url() + path, "{}", {}), 401, "Missing Authorization header");
    requireError(httpRequest(method, server.url() + path, "{}", {{"Authorization", "   "}}), 401,
                 "Missing Authorization header");
    requireError(httpRequest(method, server.url() + path, "{}", {bearer("wrong")}), 403, "Invalid API key");
  }
  // The header's "Bearer " is optional and case-insensitive; the master key is accepted either way.
  CHECK(get(server, "/sessions", {{"Authorization", "bEaReR " + server.masterKey()}}).status == 200);
  CHECK(get(server, "/sessions", {{"Authorization", server.masterKey()}}).status == 200);
  CHECK(get(server, "/sessions", {{"Authorization", "Bearer " + server.masterKey() + "x"}}).status == 403);
}

TEST_CASE("server: unknown routes and methods are 404 after authentication", "[server]") {
  ServerProcess server(quiet());
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/nope"}, {"GET", "/execute"}, {"PUT", "/sessions"}, {"DELETE", "/session/"}, {"DELETE", "/session/a/b"}}) {
    INFO(method << " " << path);
    auto r = httpRequest(method, server.url() + path, {}, master(server));
    CHECK(r.status == 404);
    CHECK(r.body == "404 Not Found");
  }
}

TEST_CASE("server: malformed bodies are 400 naming the problem", "[server]") {
  ServerProcess server(quiet());
  const auto h = master(server);
  for (const std::string path : {"/execute", "/execute/stream", "/file"}) {
    INFO(path);
    auto r = post(server, path, "{\"request\": ", h);
    REQUIRE(r.status == 400);
    CHECK(str(parseObject(r.body).at("error")).starts_with("body must be valid JSON: "));
    requireError(post(server, path, "[1]", h), 400, "body must be a JSON object");
  }
  requireError(post(server, "/execute", R"({"request":{"runtime":"python","code":"1","timeoutMs":"soon"}})", h), 400,
               "request.timeoutMs must be a positive integer");
  requireError(post(server, "/execute", R"({"options":{}})", h), 400, "request must be an object");
  // The request is checked before a stream starts, so every transport refuses it the same way.
  const std::string unknownRuntime = R"({"request":{"runtime":"cobol","code":"1"}})";
  auto streamRefusal = post(server, "/execute/stream", unknownRuntime, h);
  CHECK(streamRefusal.status == 400);
  CHECK(str(parseObject(streamRefusal.body).at("error")).starts_with("Unknown runtime: \"cobol\""));
  CHECK(post(server, "/execute", unknownRuntime, h).body == streamRefusal.body);
  requireError(post(server, "/execute", R"({"request":{"runtime":"python","code":"1","cmd":"true"}})", h), 400,
               "ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive "
               "— provide exactly one.");
}

// ---- POST /execute and the policy on client options ---------------------------------------

TEST_CASE("server: POST /execute returns the whole result, output exactly as produced", "[server]") {
  ServerProcess server(quiet());
  auto r = post(server, "/execute",
                envelope("python", "import sys\nprint('out  ')\nprint('err', file=sys.stderr)\nsys.exit(42)"),
                master(server));
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto o = parseObject(r.body);
  CHECK(str(o.at("stdout")) == "out  \n");  // not trimmed (the original trimmed)
  CHECK(str(o.at("stderr")) == "err\n");
  CHECK(o.at("exitCode").as_int64() == 42);
  CHECK(o.at("timedOut").as_bool() == false);
  CHECK(o.at("oomKilled").as_bool() == false);
  CHECK(str(o.at("runtime")) == "python");
  for (const char* key : {"durationMs", "truncated", "executionId", "timestamp", "containerId"}) CHECK(o.contains(key));
}

TEST_CASE("server: client options beyond the server's policy are refused with 403", "[server]") {
  ServerProcess server(quiet());
  const auto h = master(server);
  const std::vector<std::pair<json::object, std::string>> refused{
      {{{"network", "host"}}, "options.network \"host\" is not allowed by this server"},
      {{{"security", json::object{{"seccomp", "unconfined"}}}},
       "options.security.seccomp \"unconfined\" is not allowed by this server"},
      {{{"image", "debian:12"}}, "options.image \"debian:12\" is not allowed by this server"},
      {{{"persist", true}}, "options.persist is not allowed by this server"},
      {{{"memoryLimit", "4g"}}, "options.memoryLimit \"4g\" exceeds this server's maximum of \"512m\""},
      {{{"cpuLimit", 3}}, "options.cpuLimit 3 exceeds this server's maximum of 1"},
      {{{"timeoutMs", 600000}}, "options.timeoutMs 600000 exceeds this server's maximum of 30000"},
      {{{"pidsLimit", 100000}}, "options.pidsLimit 100000 exceeds this server's maximum of 64"},
      {{{"networkFilter", json::object{{"allowedAddresses", json::array{"10.0.0.0/8"}}}}},
       "options.networkFilter.allowedAddresses \"10.0.0.0/8\" is not allowed by this server"},
  };
  for (const auto& [options, message] : refused) {
    INFO(json::serialize(options));
    const std::string body = envelope("bash", "echo never", json::object{{"options", options}});
    requireError(post(server, "/execute", body, h), 403, message);
    requireError(post(server, "/execute/stream", body, h), 403, message);
    auto ws = wsExchange(server.url(), h, {json::serialize(json::object{{"type", "execute"},
                                                                         {"request", json::parse(body).at("request")},
                                                                         {"options", options}})});
    REQUIRE(ws.messages.size() == 1);
    CHECK(ws.messages[0] == json::serialize(json::object{{"type", "error"}, {"data", message}}));
  }
  auto timeout = post(server, "/execute", R"({"request":{"runtime":"bash","code":"true","timeoutMs":30001}})", h);
  requireError(timeout, 403, "request.timeoutMs 30001 exceeds this server's maximum of 30000");
}

TEST_CASE("server: options within the policy are applied to the run", "[server]") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[],"maxMemoryLimit":"1g","allowHostNetwork":true}})";
  ServerProcess server(launch);
  const auto h = master(server);
  // Less memory than the default, and more (up to the configured maximum): the cgroup says so.
  for (const auto& [limit, bytes] : std::vector<std::pair<std::string, std::string>>{{"128m", "134217728"},
                                                                                     {"1g", "1073741824"}}) {
    auto r = post(server, "/execute",
                  envelope("bash", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
                           json::object{{"options", json::object{{"memoryLimit", limit}}}}),
                  h);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(str(parseObject(r.body).at("stdout")) == bytes + "\n");
  }
  auto host = post(server, "/execute",
                   envelope("bash", "cat /proc/net/dev | grep -c :", json::object{{"options", json::object{{"network", "host"}}}}), h);
  INFO(host.body);
  REQUIRE(host.status == 200);
  CHECK(std::stoi(str(parseObject(host.body).at("stdout"))) > 1);  // more than loopback: the host's interfaces
}

// ---- SSE --------------------------------------------------------------------------------

TEST_CASE("server: SSE frames are exactly data lines of the events", "[server]") {
  ServerProcess server(quiet());
  auto r = post(server, "/execute/stream", envelope("bash", "printf 'hello\\n'; exit 3"), master(server));
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "text/event-stream");
  CHECK(r.header("cache-control") == "no-cache");
  CHECK(r.body ==
        "data: {\"type\":\"stdout\",\"data\":\"hello\\n\",\"phase\":\"code\"}\n\n"
        "data: {\"type\":\"exit\",\"data\":\"3\",\"phase\":\"code\"}\n\n");

  auto err = post(server, "/execute/stream", envelope("bash", "printf 'oops' >&2"), master(server));
  CHECK(err.body ==
        "data: {\"type\":\"stderr\",\"data\":\"oops\",\"phase\":\"code\"}\n\n"
        "data: {\"type\":\"exit\",\"data\":\"0\",\"phase\":\"code\"}\n\n");
}

// The extension event: asked for with "resultEvent": true, it follows the original events,
// which are unchanged (a client of the original format that does not ask never sees it).
TEST_CASE("server: a stream that asks for it ends with a result event after the original events", "[server]") {
  ServerProcess server(quiet());
  const std::string code = "printf 'hello\\n'; exit 3";
  const std::string originalEvents =
      "data: {\"type\":\"stdout\",\"data\":\"hello\\n\",\"phase\":\"code\"}\n\n"
      "data: {\"type\":\"exit\",\"data\":\"3\",\"phase\":\"code\"}\n\n";

  auto r = post(server, "/execute/stream", envelope("bash", code, {{"resultEvent", true}}), master(server));
  REQUIRE(r.status == 200);
  REQUIRE(r.body.starts_with(originalEvents));
  const std::string last = r.body.substr(originalEvents.size());
  REQUIRE(last.starts_with("data: "));
  REQUIRE(last.find("\n\n") == last.size() - 2);  // one frame, the stream's last
  const auto event = parseObject(last.substr(6, last.size() - 8));
  CHECK(str(event.at("type")) == "result");
  const auto& result = event.at("result").as_object();
  CHECK(result.at("exitCode").to_number<int>() == 3);
  CHECK(str(result.at("stdout")) == "hello\n");
  CHECK(str(result.at("stderr")).empty());
  CHECK_FALSE(str(result.at("executionId")).empty());

  // Without the field the stream is the original's, event for event.
  CHECK(post(server, "/execute/stream", envelope("bash", code), master(server)).body == originalEvents);

  json::object message{{"type", "execute"}, {"resultEvent", true},
                       {"request", json::object{{"runtime", "bash"}, {"code", code}}}};
  auto ws = wsExchange(server.url(), master(server), {json::serialize(message)});
  REQUIRE(ws.upgraded);
  REQUIRE(ws.messages.size() == 3);
  CHECK(ws.messages[0] == R"({"type":"stdout","data":"hello\n","phase":"code"})");
  CHECK(ws.messages[1] == R"({"type":"exit","data":"3","phase":"code"})");
  const auto wsEvent = parseObject(ws.messages[2]);
  CHECK(str(wsEvent.at("type")) == "result");
  CHECK(wsEvent.at("result").at("exitCode").to_number<int>() == 3);
  CHECK(str(wsEvent.at("result").at("stdout")) == "hello\n");
  CHECK(ws.closeCode == 1000);
}

TEST_CASE("server: SSE sends keep-alive comments while the program is silent", "[server]") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[],"sseKeepAliveMs":100}})";
  ServerProcess server(launch);
  auto r = post(server, "/execute/stream", envelope("bash", "sleep 1.5; echo done"), master(server));
  REQUIRE(r.status == 200);
  const std::string keepAlive = ": keep-alive\n\n";
  const auto first = r.body.find(keepAlive);
  REQUIRE(first != std::string::npos);
  CHECK(first < r.body.find("data: "));  // during the silence, before any event
  // Without the comments, the frames are exactly the events.
  std::string frames = r.body;
  for (auto at = frames.find(keepAlive); at != std::string::npos; at = frames.find(keepAlive)) frames.erase(at, keepAlive.size());
  CHECK(frames ==
        "data: {\"type\":\"stdout\",\"data\":\"done\\n\",\"phase\":\"code\"}\n\n"
        "data: {\"type\":\"exit\",\"data\":\"0\",\"phase\":\"code\"}\n\n");
}

// ---- WebSocket ----------------------------------------------------------------------------

TEST_CASE("server: WebSocket runs one execution and closes with 1000 Execution complete", "[server]") {
  ServerProcess server(quiet());
  const std::string execute = R"({"type":"execute","request":{"runtime":"bash","code":"echo hi; exit 5"}})";
  // stdin and signal messages are accepted and ignored (reserved).
  auto ws = wsExchange(server.url(), master(server),
                       {R"({"type":"stdin","data":"x"})", R"({"type":"signal","signal":"SIGINT"})", execute});
  REQUIRE(ws.upgraded);
  CHECK(ws.messages == std::vector<std::string>{R"({"type":"stdout","data":"hi\n","phase":"code"})",
                                                R"({"type":"exit","data":"5","phase":"code"})"});
  CHECK(ws.closeCode == 1000);
  CHECK(ws.closeReason == "Execution complete");
}

TEST_CASE("server: WebSocket protocol errors", "[server]") {
  ServerProcess server(quiet());
  auto bad = wsExchange(server.url(), master(server), {"this is not json"});
  CHECK(bad.messages == std::vector<std::string>{R"({"type":"error","data":"Invalid JSON message"})"});
  CHECK(bad.closeCode == 1003);
  CHECK(bad.closeReason == "Invalid JSON");

  // An unknown type is an error event; the connection stays usable.
  auto unknown = wsExchange(server.url(), master(server),
                            {R"({"type":"unknown-type"})", R"({"type":"execute","request":{"runtime":"bash","code":"echo ok"}})"});
  REQUIRE(unknown.messages.size() == 3);
  CHECK(unknown.messages[0] == R"({"type":"error","data":"Unknown message type: unknown-type"})");
  CHECK(unknown.messages[1] == R"({"type":"stdout","data":"ok\n","phase":"code"})");
  CHECK(unknown.closeCode == 1000);

  // The upgrade itself needs a key: a plain 401/403 before any WebSocket.
  auto none = wsExchange(server.url(), {}, {});
  CHECK_FALSE(none.upgraded);
  CHECK(none.handshakeStatus == 401);
  auto wrong = wsExchange(server.url(), {bearer("wrong")}, {});
  CHECK_FALSE(wrong.upgraded);
  CHECK(wrong.handshakeStatus == 403);
}

// ---- sessions -----------------------------------------------------------------------------

TEST_CASE("server: a session's files survive across requests and across transports", "[server]") {
  ServerProcess server(quiet());
  const auto h = master(server);
  const std::string id = "files-" + isol8::detail::randomHex(4);
  auto first = post(server, "/execute",
                    envelope("bash", "printf 'from http' > /sandbox/a.txt", json::object{{"sessionId", id}}), h);
  INFO(first.body);
  REQUIRE(first.status == 200);

  // POST /file: binary bytes; GET /file gives them back.
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const json::object upload{{"sessionId", id}, {"path", "/sandbox/b.bin"}, {"content", isol8::detail::base64Encode(binary)}};
  auto put = post(server, "/file", json::serialize(upload), h);
  INFO(put.body);
  REQUIRE(put.status == 200);
  CHECK(put.body == R"({"ok":true})");
  auto got = get(server, "/file?sessionId=" + id + "&path=%2Fsandbox%2Fb.bin", h);
  REQUIRE(got.status == 200);
  CHECK(isol8::detail::base64Decode(str(parseObject(got.body).at("content"))) == binary);

  // The WebSocket carries sessionId: same container, both files there.
  const std::string code = "cat /sandbox/a.txt; echo; od -An -tx1 -j255 /sandbox/b.bin";
  const json::object message{{"type", "execute"}, {"request", json::object{{"runtime", "bash"}, {"code", code}}}, {"sessionId", id}};
  auto ws = wsExchange(server.url(), h, {json::serialize(message)});
  REQUIRE(ws.messages.size() >= 2);
  std::string out;
  for (const auto& m : ws.messages) {
    auto e = parseObject(m);
    if (str(e.at("type")) == "stdout") out += str(e.at("data"));
  }
  CHECK(out == "from http\n ff\n");
  CHECK(ws.messages.back() == R"({"type":"exit","data":"0","phase":"code"})");

  // And SSE too.
  auto sse = post(server, "/execute/stream", envelope("bash", "cat /sandbox/a.txt", json::object{{"sessionId", id}}), h);
  CHECK(sse.body.find(R"(data: {"type":"stdout","data":"from http","phase":"code"})") != std::string::npos);
}

TEST_CASE("server: sessions are listed, deleted idempotently, and their containers removed", "[server]") {
  ServerProcess server(quiet());
  const auto h = master(server);
  requireError(get(server, "/file?sessionId=nope&path=/sandbox/x", h), 404, "Session not found");
  requireError(post(server, "/file", R"({"sessionId":"nope","path":"/sandbox/x","content":""})", h), 404,
               "Session not found");
  requireError(get(server, "/file?path=/sandbox/x", h), 400, "Missing sessionId or path");
  requireError(get(server, "/file?sessionId=x", h), 400, "Missing sessionId or path");
  CHECK(get(server, "/sessions", h).body == R"({"sessions":[]})");

  const std::string a = "list-a-" + isol8::detail::randomHex(4), b = "list-b-" + isol8::detail::randomHex(4);
  for (const auto& id : {a, b})
    REQUIRE(post(server, "/execute", envelope("bash", "true", json::object{{"sessionId", id}}), h).status == 200);
  auto listed = parseObject(get(server, "/sessions", h).body).at("sessions").as_array();
  REQUIRE(listed.size() == 2);
  CHECK(str(listed[0].at("id")) == a);
  CHECK(str(listed[1].at("id")) == b);
  CHECK(listed[0].at("isActive").as_bool() == false);
  CHECK(isol8::detail::parseIsoTimestamp(str(listed[0].at("lastAccessedAt"))).has_value());
  REQUIRE(containersWithLabel("isol8.session=" + a).size() == 1);

  // A file path outside /sandbox and /tmp is the client's mistake.
  auto outside = post(server, "/file", json::serialize(json::object{{"sessionId", a}, {"path", "/etc/x"}, {"content", ""}}), h);
  CHECK(outside.status == 400);

  auto deleted = httpRequest("DELETE", server.url() + "/session/" + a, {}, h);
  CHECK(deleted.status == 200);
  CHECK(deleted.body == R"({"ok":true})");
  CHECK(containersWithLabel("isol8.session=" + a).empty());
  listed = parseObject(get(server, "/sessions", h).body).at("sessions").as_array();
  REQUIRE(listed.size() == 1);
  CHECK(str(listed[0].at("id")) == b);
  CHECK(httpRequest("DELETE", server.url() + "/session/" + a, {}, h).status == 200);  // again: still 200
}

TEST_CASE("server: idle sessions are pruned, busy ones are not", "[server]") {
  ServerLaunch launch;
  launch.configJson = R"({"server":{"prewarm":[],"pruneIntervalMs":100},"cleanup":{"maxContainerAgeMs":500}})";
  ServerProcess server(launch);
  const auto h = master(server);
  const std::string idle = "idle-" + isol8::detail::randomHex(4), busy = "busy-" + isol8::detail::randomHex(4);
  REQUIRE(post(server, "/execute", envelope("bash", "true", json::object{{"sessionId", idle}}), h).status == 200);
  // Runs three times longer than the idle limit: it must not be pruned while it runs.
  auto r = post(server, "/execute", envelope("bash", "sleep 1.5; echo survived", json::object{{"sessionId", busy}}), h);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(str(parseObject(r.body).at("stdout")) == "survived\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!containersWithLabel("isol8.session=" + idle).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling for the prune
  CHECK(containersWithLabel("isol8.session=" + idle).empty());
  CHECK(get(server, "/sessions", h).body.find(idle) == std::string::npos);
}

// ---- tenants and keys, with each key database ---------------------------------------------

TEST_CASE("server: the auth routes with a key database", "[server]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(backend);
  KeyedServer keyed(backend);
  ServerProcess& server = keyed.server;
  const auto h = master(server);

  auto created = post(server, "/auth/keys", R"({"name":"ci","tenantId":"alpha"})", h);
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto key = parseObject(created.body);
  for (const char* field : {"id", "key", "name", "keyPrefix", "tenantId", "expiresAt"}) CHECK(key.contains(field));
  CHECK(str(key.at("key")).starts_with("isol8_"));
  CHECK(str(key.at("keyPrefix")) == str(key.at("key")).substr(0, 10) + "...");
  createKey(server, "other", "beta");
  requireError(post(server, "/auth/keys", R"({"tenantId":"alpha"})", h), 400, "name is required");

  auto all = parseObject(get(server, "/auth/keys", h).body).at("keys").as_array();
  CHECK(all.size() == 2);
  for (const auto& k : all) {
    CHECK_FALSE(k.as_object().contains("key"));
    CHECK_FALSE(k.as_object().contains("keyHash"));
  }
  auto alpha = parseObject(get(server, "/auth/keys?tenantId=alpha", h).body).at("keys").as_array();
  REQUIRE(alpha.size() == 1);
  CHECK(str(alpha[0].at("name")) == "ci");

  auto login = post(server, "/auth/login", "", h);
  REQUIRE(login.status == 200);
  auto token = parseObject(login.body);
  CHECK(str(token.at("token")).starts_with("isol8_"));
  CHECK(token.contains("expiresAt"));
  CHECK(token.contains("keyId"));

  // A DB key works for the other routes but not for /auth/*.
  const Headers dbKey{bearer(str(key.at("key")))};
  CHECK(get(server, "/sessions", dbKey).status == 200);
  requireError(post(server, "/auth/keys", R"({"name":"x"})", dbKey), 403, "Master key required for this operation");
  requireError(get(server, "/auth/keys", dbKey), 403, "Master key required for this operation");
  requireError(post(server, "/auth/login", "", dbKey), 403, "Master key required for this operation");

  const std::string id = str(key.at("id"));
  auto revoked = httpRequest("DELETE", server.url() + "/auth/keys/" + id, {}, h);
  REQUIRE(revoked.status == 200);
  CHECK(json::parse(revoked.body) == json::parse(R"({"ok":true,"id":")" + id + "\"}"));
  requireError(get(server, "/sessions", dbKey), 403, "Invalid API key");
  requireError(httpRequest("DELETE", server.url() + "/auth/keys/no-such-id", {}, h), 404, "Key not found");
}

TEST_CASE("server: an expired key is refused", "[server]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(backend);
  KeyedServer keyed(backend);
  ServerProcess& server = keyed.server;
  const auto shortLived = createKey(server, "short", "t", 300);
  const auto longLived = createKey(server, "long", "t");
  CHECK(get(server, "/sessions", {bearer(shortLived.key)}).status == 200);  // valid until expiresAt
  const auto expires = *isol8::detail::parseIsoTimestamp(shortLived.expiresAt);
  while (std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() <=
         expires)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waiting for the expiry time itself
  requireError(get(server, "/sessions", {bearer(shortLived.key)}), 403, "Invalid API key");
  CHECK(get(server, "/sessions", {bearer(longLived.key)}).status == 200);
}

TEST_CASE("server: a tenant can neither see nor use another tenant's session", "[server]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(backend);
  KeyedServer keyed(backend);
  ServerProcess& server = keyed.server;
  const Headers a{bearer(createKey(server, "a", "tenant-a").key)};
  const Headers b{bearer(createKey(server, "b", "tenant-b").key)};
  const Headers a2{bearer(createKey(server, "a2", "tenant-a").key)};  // same tenant, another key
  const std::string id = "shared-" + isol8::detail::randomHex(4);

  REQUIRE(post(server, "/execute", envelope("bash", "echo secret > /sandbox/s.txt", json::object{{"sessionId", id}}), a).status == 200);
  CHECK(get(server, "/sessions", b).body == R"({"sessions":[]})");
  requireError(get(server, "/file?sessionId=" + id + "&path=/sandbox/s.txt", b), 404, "Session not found");
  requireError(post(server, "/file", json::serialize(json::object{{"sessionId", id}, {"path", "/sandbox/s.txt"}, {"content", ""}}), b),
               404, "Session not found");
  // B's execute with the same id gets B's own session: A's file is not there.
  auto mine = post(server, "/execute", envelope("bash", "cat /sandbox/s.txt", json::object{{"sessionId", id}}), b);
  REQUIRE(mine.status == 200);
  CHECK(parseObject(mine.body).at("exitCode").as_int64() != 0);
  // B deleting "its" id leaves A's session alone; another key of tenant A sees A's session.
  REQUIRE(httpRequest("DELETE", server.url() + "/session/" + id, {}, b).status == 200);
  auto file = get(server, "/file?sessionId=" + id + "&path=/sandbox/s.txt", a2);
  REQUIRE(file.status == 200);
  CHECK(isol8::detail::base64Decode(str(parseObject(file.body).at("content"))) == "secret\n");
  // The master key is its own owner, too.
  CHECK(get(server, "/sessions", master(server)).body == R"({"sessions":[]})");
}

TEST_CASE("server: without a key database the auth routes answer 400", "[server]") {
  ServerProcess server(quiet());
  const auto h = master(server);
  requireError(post(server, "/auth/keys", R"({"name":"x"})", h), 400, "DB-backed auth is not enabled");
  requireError(get(server, "/auth/keys", h), 400, "DB-backed auth is not enabled");
  requireError(post(server, "/auth/login", "{}", h), 400, "DB-backed auth is not enabled");
  requireError(httpRequest("DELETE", server.url() + "/auth/keys/x", {}, h), 400, "DB-backed auth is not enabled");
}

// ---- disconnects, cleanup, audit, process lifecycle -----------------------------------------

TEST_CASE("server: a client leaving mid-stream stops the run and its container returns to the pool", "[server]") {
  // One run at a time, one warm python container, and a timeout far beyond the test: only
  // the disconnect can end the first run in time for the second.
  ServerLaunch launch;
  launch.configJson = R"({"maxConcurrent":1,"poolSize":{"clean":1,"dirty":1},"defaults":{"timeoutMs":250000},
                          "server":{"prewarm":["python"]}})";
  ServerProcess server(launch);
  const std::string transport = GENERATE(as<std::string>{}, "sse", "websocket");
  INFO(transport);
  // One write (print() writes the newline separately), then a long sleep.
  const std::string code =
      "import socket, sys, time\nsys.stdout.write(socket.gethostname() + '\\n')\nsys.stdout.flush()\ntime.sleep(240)";

  std::string hostname;
  if (transport == "sse") {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
    const std::string body = envelope("python", code);
    const std::string request = "POST /execute/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                server.masterKey() + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(socket, asio::buffer(request));
    std::string received;
    asio::read_until(socket, asio::dynamic_buffer(received), "\\n\",\"phase\"");
    const auto at = received.find(R"("data":")");
    REQUIRE(at != std::string::npos);
    hostname = received.substr(at + 8, received.find("\\n", at) - at - 8);
    socket.close();  // the client goes away mid-run
  } else {
    // wsExchange closes the connection after the first message.
    const json::object message{{"type", "execute"}, {"request", json::object{{"runtime", "python"}, {"code", code}}}};
    auto ws = wsExchange(server.url(), master(server), {json::serialize(message)}, 1);
    REQUIRE(ws.messages.size() == 1);
    const auto event = parseObject(ws.messages[0]);
    hostname = str(event.at("data"));
    hostname.pop_back();  // the newline
  }
  REQUIRE(hostname.size() == 12);

  // Processes whose command line holds the first run's code (the needle is built at run time so
  // this program's own code does not match it).
  const std::string kCountSleepers =
      "import os\nneedle = 'time.sleep(' + '240)'\nn = 0\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
      "    try: n += needle in open(f'/proc/{p}/cmdline').read()\n    except OSError: pass\nprint(n)";
  const auto started = std::chrono::steady_clock::now();
  auto second = post(server, "/execute", envelope("python", "print('second')"), master(server));
  const auto waited = std::chrono::steady_clock::now() - started;
  INFO(second.body);
  REQUIRE(second.status == 200);
  CHECK(str(parseObject(second.body).at("stdout")) == "second\n");
  CHECK(waited < std::chrono::seconds(60));  // the permit came back long before the first run's 240 s

  // The first run's container was not thrown away: it is cleaned (its sleeper killed) and
  // handed out again.
  CHECK(runProgram({"docker", "inspect", hostname}).exitCode == 0);
  bool reused = false;
  for (int i = 0; i < 6 && !reused; ++i) {
    auto next = post(server, "/execute", envelope("python", kCountSleepers),
                     master(server));
    REQUIRE(next.status == 200);
    auto result = parseObject(next.body);
    reused = str(result.at("containerId")).starts_with(hostname);
    if (reused) CHECK(str(result.at("stdout")) == "0\n");  // the first run's sleeper is gone
  }
  CHECK(reused);
}

TEST_CASE("server: POST /cleanup touches only what the caller owns", "[server]") {
  TempDir dir;
  ServerLaunch launch = quiet();
  launch.authDb = dir.path + "/auth.db";
  ServerProcess server(launch);
  const Headers a{bearer(createKey(server, "a", "tenant-a").key)};
  const std::string mine = "cl-a-" + isol8::detail::randomHex(4), masters = "cl-m-" + isol8::detail::randomHex(4);
  REQUIRE(post(server, "/execute", envelope("bash", "true", json::object{{"sessionId", mine}}), a).status == 200);
  REQUIRE(post(server, "/execute", envelope("bash", "true", json::object{{"sessionId", masters}}), master(server)).status == 200);
  REQUIRE(post(server, "/execute", envelope("bash", "true"), master(server)).status == 200);  // the shared pool

  requireError(post(server, "/cleanup", R"({"images":true})", a), 403, "Master key required for this operation");
  auto tenant = post(server, "/cleanup", "", a);
  INFO(tenant.body);
  REQUIRE(tenant.status == 200);
  auto report = parseObject(tenant.body);
  CHECK(report.at("ok").as_bool());
  CHECK(report.at("sessions").at("removed").as_int64() == 1);
  CHECK(report.at("containers").at("removed").as_int64() == 0);
  CHECK_FALSE(report.contains("images"));
  CHECK(containersWithLabel("isol8.session=" + mine).empty());
  CHECK(containersWithLabel("isol8.session=" + masters).size() == 1);  // the master's session stays

  auto all = post(server, "/cleanup", R"({"images":false})", master(server));
  REQUIRE(all.status == 200);
  report = parseObject(all.body);
  CHECK(report.at("sessions").at("removed").as_int64() == 1);
  CHECK(report.at("containers").at("removed").as_int64() >= 1);  // the shared engine's pool (bash)
  CHECK_FALSE(report.contains("images"));
  CHECK(containersWithLabel("isol8.session=" + masters).empty());
}

TEST_CASE("server: the audit log records every execution, buffered and streamed", "[server]") {
  TempDir dir;
  ServerLaunch launch;
  launch.configJson = json::serialize(json::object{
      {"server", json::object{{"prewarm", json::array{}}}},
      {"audit", json::object{{"enabled", true}, {"logDir", dir.path}}}});
  ServerProcess server(launch);
  const std::string code = "echo audited";
  const auto buffered = post(server, "/execute",
                             json::serialize(json::object{{"request", json::object{{"runtime", "bash"}, {"code", code},
                                                                                   {"metadata", json::object{{"userId", "u-1"}}}}}}),
                             master(server));
  REQUIRE(buffered.status == 200);
  // The result and the audit line carry the run's resource usage.
  const auto usage = parseObject(buffered.body).at("resourceUsage").as_object();
  CHECK(usage.at("wallMs").as_int64() >= 0);
  CHECK(usage.at("peakMemoryBytes").as_int64() > 0);
  REQUIRE(post(server, "/execute/stream", envelope("bash", code), master(server)).status == 200);
  std::ifstream in(dir.path + "/executions.log");
  std::vector<json::object> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(parseObject(line));
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    CHECK(str(line.at("codeHash")) == isol8::detail::sha256Hex(code));
    CHECK(str(line.at("runtime")) == "bash");
    CHECK(str(line.at("tenantId")) == "master");
    CHECK(line.at("exitCode").as_int64() == 0);
    CHECK_FALSE(str(line.at("containerId")).empty());
    REQUIRE(line.contains("resourceUsage"));
    CHECK(line.at("resourceUsage").as_object().at("peakMemoryBytes").as_int64() > 0);
    CHECK_FALSE(line.contains("code"));    // includeCode is off
    CHECK_FALSE(line.contains("stdout"));  // includeOutput is off
  }
  CHECK(str(lines[0].at("userId")) == "u-1");
}

TEST_CASE("server: shutdown removes the server's containers and keeps the images", "[server]") {
  ServerProcess server(quiet());
  const std::string id = "bye-" + isol8::detail::randomHex(4);
  REQUIRE(post(server, "/execute", envelope("bash", "true", json::object{{"sessionId", id}}), master(server)).status == 200);
  auto ephemeral = post(server, "/execute", envelope("bash", "true"), master(server));
  REQUIRE(ephemeral.status == 200);
  const std::string pooled = str(parseObject(ephemeral.body).at("containerId"));
  REQUIRE(runProgram({"docker", "inspect", pooled}).exitCode == 0);  // kept warm while the server runs
  REQUIRE(containersWithLabel("isol8.session=" + id).size() == 1);

  CHECK(server.stop() == 0);
  CHECK(server.output().find("[INFO] Shutting down isol8 server...") != std::string::npos);
  CHECK(server.output().find("[INFO] Server cleanup complete") != std::string::npos);
  CHECK(containersWithLabel("isol8.session=" + id).empty());
  CHECK(runProgram({"docker", "inspect", pooled}).exitCode != 0);
  CHECK(runProgram({"docker", "image", "inspect", "isol8:bash"}).exitCode == 0);
}

TEST_CASE("server: flags, port precedence and startup errors", "[server]") {
  const std::string bin = ISOL8_SERVER_PATH;
  auto help = runProgram({bin});
  CHECK(help.exitCode == 0);
  CHECK(help.out.find("Usage: isol8-server") != std::string::npos);
  auto version = runProgram({bin, "--version"});
  CHECK(version.out == std::string(ISOL8_VERSION_TEXT) + "\n");
  auto unknown = runProgram({bin, "--key", "k", "--bogus"});
  CHECK(unknown.exitCode == 1);
  CHECK(unknown.err == "[ERR] Unknown argument: --bogus\n");
  CHECK(runProgram({bin, "--key", "k", "--bind", "localhost:80"}).err ==
        "[ERR] Invalid --bind address: localhost:80 (expected an IP address such as 127.0.0.1 or 0.0.0.0)\n");
  auto noConfig = runProgram({bin, "--key", "k", "--config", "/nonexistent/isol8.json"});
  CHECK(noConfig.exitCode == 1);
  CHECK(noConfig.err == "[ERR] Cannot read config file /nonexistent/isol8.json: No such file or directory. Check the path "
                        "given to --config.\n");
  auto dangling = runProgram({bin, "--key"});
  CHECK(dangling.err == "[ERR] Unknown argument: --key\n");
  auto nokey = runProgram({"env", "-u", "ISOL8_API_KEY", bin, "--port", "3000"});
  CHECK(nokey.exitCode == 1);
  CHECK(nokey.err == "[ERR] API key required. Use --key or set ISOL8_API_KEY env var.\n");
  CHECK(runProgram({bin, "--key", "k", "--port", "0"}).err == "[ERR] Invalid port from --port: 0. Expected 1-65535.\n");
  CHECK(runProgram({"env", "ISOL8_PORT=abc", bin, "--key", "k"}).err ==
        "[ERR] Invalid port from ISOL8_PORT: abc. Expected 1-65535.\n");
  CHECK(runProgram({"env", "-u", "ISOL8_PORT", "PORT=70000", bin, "--key", "k"}).err ==
        "[ERR] Invalid port from PORT: 70000. Expected 1-65535.\n");

  // --port beats ISOL8_PORT beats PORT; the key may come from ISOL8_API_KEY.
  TempDir dir;
  std::ofstream(dir.path + "/config.json") << kQuietConfig;
  const std::string config = dir.path + "/config.json";
  const int p1 = freeLoopbackPort(), p2 = freeLoopbackPort(), p3 = freeLoopbackPort();
  {
    BackgroundProcess s({"env", "ISOL8_PORT=" + std::to_string(p2), "PORT=" + std::to_string(p3), bin, "--key", "k",
                         "--config", config, "--port", std::to_string(p1)});
    REQUIRE(waitForPort(p1));
  }
  {
    BackgroundProcess s({"env", "ISOL8_PORT=" + std::to_string(p2), "PORT=" + std::to_string(p3),
                         "ISOL8_API_KEY=k", bin, "--config", config});
    REQUIRE(waitForPort(p2));
    CHECK(httpRequest("GET", "http://127.0.0.1:" + std::to_string(p2) + "/sessions", {}, {bearer("k")}).status == 200);
  }
  {
    BackgroundProcess s({"env", "-u", "ISOL8_PORT", "PORT=" + std::to_string(p3), bin, "--key", "k", "--config", config});
    REQUIRE(waitForPort(p3));
  }
}

TEST_CASE("server: a client that expects 100-continue is told to go on before it sends the body", "[server]") {
  ServerProcess server(quiet());
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
  const std::string body = R"({"name":")" + std::string(2000, 'x') + R"("})";
  const std::string head = "POST /auth/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.masterKey() +
                           "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  std::string received;
  asio::read_until(socket, asio::dynamic_buffer(received), "\r\n\r\n");
  CHECK(received.starts_with("HTTP/1.1 100 Continue\r\n"));  // before any body byte was sent
  asio::write(socket, asio::buffer(body));
  received.clear();
  asio::read_until(socket, asio::dynamic_buffer(received), "DB-backed auth is not enabled");
  CHECK(received.starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_CASE("server: shutdown while the pools are still filling leaves no container behind", "[server]") {
  ServerLaunch launch;
  launch.configJson = R"({"poolSize":{"clean":2,"dirty":0}})";  // prewarm: all five runtimes
  launch.extraArgs = {"--debug"};
  ServerProcess server(launch);
  static const std::regex kEngine(R"(shared engine ([0-9a-f]+) )");
  std::smatch m;
  const std::string output = server.output();
  REQUIRE(std::regex_search(output, m, kEngine));
  const std::string label = "isol8.engine=" + std::string(m[1]);
  // Stop as soon as the first container exists: the others are still being created.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (containersWithLabel(label).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling for the first container
  REQUIRE_FALSE(containersWithLabel(label).empty());
  CHECK(server.stop() == 0);
  CHECK(containersWithLabel(label).empty());
}
