// Remote code fetching (codeUrl) against HTTP(S) servers this test runs on loopback: the
// policy checks in their order, redirects re-checked hop by hop (the refused hop's server is
// never contacted), size limits, binary and empty bodies, the hash, timeouts, TLS
// verification, and the engine and CLI paths that use the fetched code.
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "isol8/error.hpp"
#include "network/remote_code.hpp"
#include "support.hpp"
#include "util/text.hpp"

using isol8::DockerIsol8;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using isol8::RemoteCodePolicy;
using isol8::StreamEvent;
using isol8::test::BackgroundProcess;
using isol8::test::TempDir;
namespace asio = boost::asio;

namespace {

constexpr const char* kHello = "print('hello from remote')\n";

// A threading HTTP/1.0 server on <bind>:<port> (HTTPS when a cert and key are given). Every
// request is logged on stdout as "HIT <Host header> <path>".
constexpr const char* kServer = R"PY(
import http.server, ssl, sys, time, urllib.parse
bind, port = sys.argv[1], int(sys.argv[2])
HELLO = b"print('hello from remote')\n"

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *args):
        pass
    def send(self, status, body=b"", length=True, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        print("HIT", self.headers.get("Host"), self.path, flush=True)
        url = urllib.parse.urlparse(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        if path in ("/hello.py", "/noext"):
            self.send(200, HELLO)
        elif path == "/bom.py":
            self.send(200, b"\xef\xbb\xbf" + HELLO)
        elif path == "/big.py":
            self.send(200, b"#" * 100)
        elif path == "/stream-big.py":
            self.send(200, b"#" * 100, length=False)
        elif path == "/exact.py":
            self.send(200, b"#" * 64)
        elif path == "/binary.py":
            self.send(200, b"print(1)\x00\n")
        elif path == "/latin1.py":
            self.send(200, b"print('caf\xe9')\n")
        elif path == "/empty.py":
            self.send(200, b"")
        elif path.startswith("/status/"):
            self.send(int(path[len("/status/"):]), b"nope")
        elif path == "/slow.py":
            time.sleep(3)
            self.send(200, HELLO)
        elif path == "/redirect":
            self.send(int(query.get("code", ["302"])[0]), headers=[("Location", query["to"][0])])
        elif path.startswith("/chain/"):
            n = int(path[len("/chain/"):])
            if n == 0:
                self.send(200, HELLO)
            else:
                self.send(302, headers=[("Location", f"/chain/{n - 1}")])
        else:
            self.send(404, b"not found")

server = http.server.ThreadingHTTPServer((bind, port), Handler)
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
)PY";

struct TestServer {
  TempDir dir;
  std::string bind;
  int port = isol8::test::freeLoopbackPort();
  std::unique_ptr<BackgroundProcess> process;

  explicit TestServer(std::string bindAddress = "127.0.0.1", const std::string& cert = {}, const std::string& key = {})
      : bind(std::move(bindAddress)) {
    std::vector<std::string> argv{"python3", dir.write("server.py", kServer), bind, std::to_string(port)};
    if (!cert.empty()) {
      argv.push_back(cert);
      argv.push_back(key);
    }
    process = std::make_unique<BackgroundProcess>(argv);
    REQUIRE(waitFor());
  }
  bool waitFor() const {
    if (bind == "127.0.0.1") return isol8::test::waitForPort(port);
    // waitForPort knows 127.0.0.1 only.
    const auto r = isol8::test::runProgram(
        {"python3", "-c",
         "import socket, sys, time\n"
         "for _ in range(200):\n"
         "    try:\n"
         "        socket.create_connection((sys.argv[1], int(sys.argv[2])), 1); sys.exit(0)\n"
         "    except OSError:\n"
         "        time.sleep(0.05)\n"
         "sys.exit(1)\n",
         bind, std::to_string(port)});
    return r.exitCode == 0;
  }
  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://" + bind + ":" + std::to_string(port) + path;
  }
  std::string log() const { return process->output(); }
  int hits() const {
    const std::string text = log();
    int n = 0;
    for (std::size_t at = text.find("HIT "); at != std::string::npos; at = text.find("HIT ", at + 1)) ++n;
    return n;
  }
};

// What the tests run: http on loopback allowed, the default SSRF list cleared.
RemoteCodePolicy loopbackPolicy() {
  RemoteCodePolicy p;
  p.enabled = true;
  p.allowedSchemes = {"https", "http"};
  p.blockedHosts.clear();
  p.allowedAddresses = {"127.0.0.1/32"};
  p.fetchTimeoutMs = 5000;
  return p;
}

std::string fetch(const RemoteCodePolicy& policy, const std::string& url, const std::string& hash = {},
                  bool allowInsecure = true) {
  asio::io_context context;
  const isol8::detail::Logger silent;
  auto future = asio::co_spawn(context, isol8::detail::fetchRemoteCode(policy, url, hash, allowInsecure, silent),
                               asio::use_future);
  context.run();
  return future.get();
}

// The isol8::Error message of fetch(...), or "" when it succeeded.
std::string fetchError(const RemoteCodePolicy& policy, const std::string& url, const std::string& hash = {},
                       bool allowInsecure = true) {
  try {
    fetch(policy, url, hash, allowInsecure);
  } catch (const isol8::Error& e) {
    return e.message();
  }
  return "";
}

const std::string kHelloHash = isol8::detail::sha256Hex(kHello);

}  // namespace

TEST_CASE("remote code: fetched over http, hash checked in any case", "[remote-code]") {
  TestServer server;
  const auto policy = loopbackPolicy();
  CHECK(fetch(policy, server.url("/hello.py")) == kHello);
  CHECK(fetch(policy, server.url("/hello.py"), kHelloHash) == kHello);
  std::string upper = kHelloHash;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(fetch(policy, server.url("/hello.py"), upper) == kHello);
  CHECK(fetchError(policy, server.url("/hello.py"), isol8::detail::sha256Hex("x")) == "Remote code hash mismatch");
  // The BOM is dropped before hashing.
  CHECK(fetch(policy, server.url("/bom.py"), kHelloHash) == kHello);
}

TEST_CASE("remote code: policy refusals come before any request", "[remote-code]") {
  TestServer server;
  auto policy = loopbackPolicy();
  const std::string url = server.url("/hello.py");

  auto disabled = policy;
  disabled.enabled = false;
  CHECK(fetchError(disabled, url) == "Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.");
  CHECK(fetchError(policy, "") == "codeUrl is required for remote code fetching");
  CHECK(fetchError(policy, "not a url") == "Invalid URL: not a url");
  CHECK(fetchError(policy, url, {}, false) == "Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.");

  auto httpsOnly = policy;
  httpsOnly.allowedSchemes = {"https"};
  CHECK(fetchError(httpsOnly, url) == "URL scheme not allowed: http");

  auto blocked = policy;
  blocked.blockedHosts = {R"(^127\.0\.0\.1$)"};
  CHECK(fetchError(blocked, url) == "Blocked code URL host: 127.0.0.1");
  auto allowList = policy;
  allowList.allowedHosts = {R"(^code\.example\.com$)"};
  CHECK(fetchError(allowList, url) == "Blocked code URL host: 127.0.0.1");

  auto required = policy;
  required.requireHash = true;
  CHECK(fetchError(required, url) == "Hash verification required: provide codeHash for remote code execution.");
  CHECK(fetch(required, url, kHelloHash) == kHello);

  // Only the last fetch reached the server.
  CHECK(server.hits() == 1);
}

TEST_CASE("remote code: private addresses need allowedAddresses", "[remote-code]") {
  TestServer server;
  auto policy = loopbackPolicy();
  policy.allowedAddresses.clear();
  CHECK(fetchError(policy, server.url("/hello.py")) == "Blocked code URL host: 127.0.0.1");
  // By name too: localhost resolves to loopback addresses.
  const std::string byName = "http://localhost:" + std::to_string(server.port) + "/hello.py";
  CHECK(fetchError(policy, byName) == "Blocked code URL host: localhost");
  CHECK(server.hits() == 0);
  // The control: the same URL with the address allowed.
  policy.allowedAddresses = {"127.0.0.1/32"};
  CHECK(fetch(policy, server.url("/hello.py")) == kHello);
  CHECK(server.hits() == 1);
}

TEST_CASE("remote code: unknown host", "[remote-code]") {
  const auto policy = loopbackPolicy();
  CHECK(fetchError(policy, "http://no-such-host.invalid/a.py") ==
        "Failed to resolve code URL host: no-such-host.invalid");
}

TEST_CASE("remote code: every redirect hop is checked before it is contacted", "[remote-code][redirect]") {
  TestServer server;
  TestServer other("127.0.0.2");
  auto policy = loopbackPolicy();
  const std::string toOther = server.url("/redirect?to=" + isol8::detail::urlEncode(other.url("/hello.py")));

  SECTION("an address outside allowedAddresses") {
    CHECK(fetchError(policy, toOther) == "Blocked code URL host: 127.0.0.2");
    CHECK(server.hits() == 1);
    CHECK(other.hits() == 0);
    // The control: with the second address allowed, the redirect is followed.
    policy.allowedAddresses.push_back("127.0.0.2/32");
    CHECK(fetch(policy, toOther, kHelloHash) == kHello);
    CHECK(other.hits() == 1);
  }
  SECTION("a host on the block list") {
    policy.allowedAddresses.push_back("127.0.0.2/32");
    policy.blockedHosts = {R"(^127\.0\.0\.2$)"};
    CHECK(fetchError(policy, toOther) == "Blocked code URL host: 127.0.0.2");
    // A name on the block list, though it resolves to an allowed address.
    policy.blockedHosts = {"^localhost$"};
    const std::string toLocalhost = server.url(
        "/redirect?code=307&to=" + isol8::detail::urlEncode("http://localhost:" + std::to_string(server.port) + "/hello.py"));
    CHECK(fetchError(policy, toLocalhost) == "Blocked code URL host: localhost");
    CHECK(server.log().find("HIT localhost") == std::string::npos);
    CHECK(other.hits() == 0);
  }
  SECTION("a scheme not on the list") {
    const std::string toFtp = server.url("/redirect?to=" + isol8::detail::urlEncode("ftp://127.0.0.2/x.py"));
    CHECK(fetchError(policy, toFtp) == "URL scheme not allowed: ftp");
  }
  SECTION("relative redirects, at most 5") {
    CHECK(fetch(policy, server.url("/chain/5")) == kHello);
    CHECK(fetchError(policy, server.url("/chain/6")) == "Failed to fetch remote code: too many redirects (more than 5)");
  }
}

TEST_CASE("remote code: HTTP errors, size limits, bodies", "[remote-code]") {
  TestServer server;
  auto policy = loopbackPolicy();
  CHECK(fetchError(policy, server.url("/status/404")) == "Failed to fetch remote code: HTTP 404");
  CHECK(fetchError(policy, server.url("/status/500")) == "Failed to fetch remote code: HTTP 500");
  policy.maxCodeSize = 64;
  CHECK(fetchError(policy, server.url("/big.py")) == "Remote code exceeds maxCodeSize (64 bytes): 100 bytes");
  CHECK(fetchError(policy, server.url("/stream-big.py")) == "Remote code exceeds maxCodeSize (64 bytes)");
  CHECK(fetch(policy, server.url("/exact.py")) == std::string(64, '#'));
  CHECK(fetchError(policy, server.url("/empty.py")) == "Remote code response body is empty");
  CHECK(fetchError(policy, server.url("/binary.py")) == "Fetched code appears to be binary content");
  CHECK(fetchError(policy, server.url("/latin1.py")) == "Fetched code is not valid UTF-8 text");
}

TEST_CASE("remote code: fetchTimeoutMs bounds the fetch", "[remote-code]") {
  TestServer server;
  auto policy = loopbackPolicy();
  policy.fetchTimeoutMs = 500;
  const auto start = std::chrono::steady_clock::now();
  CHECK(fetchError(policy, server.url("/slow.py")) == "Remote code fetch timed out after 500ms");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500));
}

TEST_CASE("remote code: connection refused", "[remote-code]") {
  const auto policy = loopbackPolicy();
  const int port = isol8::test::freeLoopbackPort();
  CHECK(fetchError(policy, "http://127.0.0.1:" + std::to_string(port) + "/a.py") ==
        "Failed to fetch remote code: Connection refused");
}

TEST_CASE("remote code: https verifies the server certificate", "[remote-code][tls]") {
  TempDir certs;
  const std::string cert = certs.path + "/cert.pem", key = certs.path + "/key.pem";
  const auto made = isol8::test::runProgram({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                             "-out", cert, "-days", "1", "-subj", "/CN=isol8-test", "-addext",
                                             "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  REQUIRE(made.exitCode == 0);
  TestServer server("127.0.0.1", cert, key);
  auto policy = loopbackPolicy();
  policy.allowedSchemes = {"https"};
  const std::string url = server.url("/hello.py", "https");

  // Not in the system store: refused.
  const std::string refused = fetchError(policy, url, {}, false);
  CHECK(refused.starts_with("Failed to fetch remote code: "));
  CHECK(refused.find("certificate verify failed") != std::string::npos);

  // Trusted (OpenSSL reads SSL_CERT_FILE): fetched, by address and by name (the name is checked).
  const char* previous = std::getenv("SSL_CERT_FILE");
  const std::string saved = previous ? previous : "";
  setenv("SSL_CERT_FILE", cert.c_str(), 1);
  CHECK(fetch(policy, url, kHelloHash, false) == kHello);
  auto byName = policy;
  byName.allowedAddresses = {"127.0.0.1/32", "::1/128"};
  CHECK(fetch(byName, "https://localhost:" + std::to_string(server.port) + "/hello.py", kHelloHash, false) == kHello);
  // An https → http redirect needs the request's opt-in, like the first URL.
  byName.allowedSchemes = {"https", "http"};
  const std::string downgrade =
      server.url("/redirect?to=" + isol8::detail::urlEncode("http://127.0.0.1:1/hello.py"), "https");
  CHECK(fetchError(byName, downgrade, {}, false) ==
        "Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.");
  if (previous) setenv("SSL_CERT_FILE", saved.c_str(), 1);
  else unsetenv("SSL_CERT_FILE");
}

// ---- through the engine (Docker) ---------------------------------------------------------

TEST_CASE("remote code: execute runs the fetched code", "[remote-code][engine]") {
  TestServer server;
  EngineOptions options;
  options.remoteCode = loopbackPolicy();
  DockerIsol8 engine(options);
  ExecutionRequest req;
  req.runtime = "python";
  req.codeUrl = server.url("/hello.py");
  req.codeHash = kHelloHash;
  req.allowInsecureCodeUrl = true;
  const auto result = engine.execute(req);
  CHECK(result.exitCode == 0);
  CHECK(result.stdoutText == "hello from remote\n");

  req.codeHash = isol8::detail::sha256Hex("something else");
  try {
    engine.execute(req);
    FAIL("expected a hash mismatch");
  } catch (const isol8::Error& e) {
    CHECK(e.message() == "Remote code hash mismatch");
  }
  // Streaming: the refusal is an error event.
  std::string errors;
  for (const auto& e : engine.executeStream(req))
    if (e.type == StreamEvent::Type::error) errors += e.data;
  CHECK(errors == "Remote code hash mismatch");

  // code and codeUrl together are refused before anything is fetched.
  req.code = "print(1)";
  CHECK_THROWS_WITH(engine.execute(req),
                    "ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive "
                    "— provide exactly one.");
  CHECK(server.hits() == 3);
}

TEST_CASE("remote code: the engine's default policy refuses", "[remote-code][engine]") {
  DockerIsol8 engine;
  ExecutionRequest req;
  req.runtime = "python";
  req.codeUrl = "https://example.com/a.py";
  CHECK_THROWS_WITH(engine.execute(req), "Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.");
}

// ---- CLI -----------------------------------------------------------------------------------

TEST_CASE("remote code: isol8 run --url / --github / --gist", "[remote-code][cli]") {
  TestServer server;
  TempDir cwd;
  cwd.write("isol8.config.json", R"({"remoteCode": {"enabled": true, "allowedSchemes": ["https", "http"],
                                      "blockedHosts": [], "allowedAddresses": ["127.0.0.1/32"]}})");
  using isol8::test::runCli;

  auto r = runCli({"run", "--url", server.url("/hello.py"), "--hash", kHelloHash, "--allow-insecure-code-url"}, {},
                  cwd.path);
  CHECK(r.err == "");
  CHECK(r.out == "hello from remote\n");
  CHECK(r.exitCode == 0);

  r = runCli({"run", "--no-stream", "--url", server.url("/hello.py"), "--hash", "00", "--allow-insecure-code-url"}, {},
             cwd.path);
  CHECK(r.err == "[ERR] Remote code hash mismatch\n");
  CHECK(r.exitCode == 1);

  r = runCli({"run", "--url", server.url("/hello.py")}, {}, cwd.path);
  CHECK(r.err == "[ERR] Insecure code URL blocked. Use allowInsecureCodeUrl=true to allow HTTP.\n");
  CHECK(r.exitCode == 1);

  r = runCli({"run", "--url", server.url("/noext"), "--allow-insecure-code-url"}, {}, cwd.path);
  CHECK(r.err == "[ERR] Cannot detect runtime from URL path. Use --runtime to specify.\n");
  CHECK(r.exitCode == 1);
  r = runCli({"run", "-r", "python", "--url", server.url("/noext"), "--allow-insecure-code-url"}, {}, cwd.path);
  CHECK(r.out == "hello from remote\n");

  r = runCli({"run", "--github", "owner/repo/main"}, {}, cwd.path);
  CHECK(r.err == "[ERR] --github format must be owner/repo/ref/path/to/file\n");
  CHECK(r.exitCode == 1);
  r = runCli({"run", "--gist", "abc"}, {}, cwd.path);
  CHECK(r.err == "[ERR] --gist format must be gistId/file.ext\n");
  CHECK(r.exitCode == 1);
  r = runCli({"run", "--url", server.url("/hello.py"), "-e", "print(1)"}, {}, cwd.path);
  CHECK(r.err == "[ERR] --url/--github/--gist cannot be used with file input or --eval.\n");
  CHECK(r.exitCode == 1);
  r = runCli({"run", "--cmd", "ls", "--gist", "abc/x.py"}, {}, cwd.path);
  CHECK(r.err == "[ERR] --cmd cannot be used with --url, --github or --gist.\n");
  CHECK(r.exitCode == 1);

  // Without a config the policy is off.
  TempDir plain;
  r = runCli({"run", "--url", server.url("/hello.py"), "--allow-insecure-code-url"}, {}, plain.path);
  CHECK(r.err == "[ERR] Remote code fetching is disabled. Set remoteCode.enabled=true to allow it.\n");
  CHECK(r.exitCode == 1);
}
