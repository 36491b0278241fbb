#include "network/proxy_http.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace isol8::detail;

namespace {

ProxyRequest parsed(const std::string& head) {
  auto result = parseProxyRequest(head);
  INFO(head);
  if (auto* error = std::get_if<ProxyParseError>(&result)) FAIL(error->message);
  return std::get<ProxyRequest>(result);
}

ProxyParseError refused(const std::string& head) {
  auto result = parseProxyRequest(head);
  INFO(head);
  REQUIRE(std::holds_alternative<ProxyParseError>(result));
  return std::get<ProxyParseError>(result);
}

}  // namespace

TEST_CASE("parseProxyRequest: CONNECT", "[proxy_http]") {
  auto r = parsed("CONNECT Example.COM:8443 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n");
  CHECK(r.connect);
  CHECK(r.method == "CONNECT");
  CHECK(r.host == "example.com");
  CHECK(r.port == 8443);
  CHECK(r.path.empty());
  CHECK(hostPort(r) == "example.com:8443");
  CHECK(parsed("CONNECT example.com HTTP/1.1\r\n\r\n").port == 443);
  CHECK(parsed("CONNECT example.com. HTTP/1.1\r\n\r\n").host == "example.com");
  auto v6 = parsed("CONNECT [::1]:22 HTTP/1.1\r\n\r\n");
  CHECK(v6.host == "[::1]");
  CHECK(v6.port == 22);
  CHECK(hostPort(v6) == "[::1]:22");
  CHECK(parsed("CONNECT [::FFFF:127.0.0.1] HTTP/1.0\r\n\r\n").host == "[::ffff:127.0.0.1]");
  // Not validated here (isValidHost is the proxy's business).
  CHECK(parsed("CONNECT 2130706433:443 HTTP/1.1\r\n\r\n").host == "2130706433");

  for (const char* bad : {"CONNECT example.com:0 HTTP/1.1\r\n\r\n", "CONNECT example.com:65536 HTTP/1.1\r\n\r\n",
                          "CONNECT example.com: HTTP/1.1\r\n\r\n", "CONNECT example.com:x HTTP/1.1\r\n\r\n",
                          "CONNECT :443 HTTP/1.1\r\n\r\n", "CONNECT ::1:443 HTTP/1.1\r\n\r\n",
                          "CONNECT [::1 HTTP/1.1\r\n\r\n", "CONNECT [::1]x HTTP/1.1\r\n\r\n",
                          "CONNECT user@example.com:443 HTTP/1.1\r\n\r\n", "CONNECT example.com/x HTTP/1.1\r\n\r\n",
                          "CONNECT http://example.com/ HTTP/1.1\r\n\r\n"}) {
    CHECK(refused(bad).status == 400);
  }
}

TEST_CASE("parseProxyRequest: absolute-URI requests", "[proxy_http]") {
  auto r = parsed("GET http://Example.com:8080/a/b?c=d#frag HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  CHECK_FALSE(r.connect);
  CHECK(r.method == "GET");
  CHECK(r.host == "example.com");
  CHECK(r.port == 8080);
  CHECK(r.path == "/a/b?c=d");
  CHECK(r.version == "HTTP/1.1");
  REQUIRE(r.headers.size() == 2);
  CHECK(r.headers[1] == std::pair<std::string, std::string>{"Accept", "*/*"});
  CHECK(r.body == ProxyRequest::Body::none);
  CHECK(parsed("GET HTTP://example.com HTTP/1.1\r\n\r\n").path == "/");
  CHECK(parsed("GET http://example.com?q HTTP/1.1\r\n\r\n").path == "/?q");
  CHECK(parsed("GET http://example.com/ HTTP/1.1\r\n\r\n").port == 80);
  CHECK(parsed("GET http://[2001:db8::1]:81/ HTTP/1.1\r\n\r\n").host == "[2001:db8::1]");

  CHECK(refused("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").status == 400);  // origin-form: not a proxy request
  auto https = refused("GET https://example.com/ HTTP/1.1\r\n\r\n");
  CHECK(https.status == 501);
  CHECK(https.message == "isol8: scheme https is not proxied; use CONNECT for https");
  CHECK(refused("GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("GET http:///path HTTP/1.1\r\n\r\n").status == 400);
}

TEST_CASE("parseProxyRequest: malformed heads", "[proxy_http]") {
  for (const char* bad : {"\r\n\r\n", "GET http://a/ HTTP/1.1\r\n", "GET http://a/  HTTP/1.1\r\n\r\n",
                          "GET http://a/\r\n\r\n", "GET http://a/ HTTP/2\r\n\r\n", "GET http://a/ HTTP/1.1 x\r\n\r\n",
                          "G(T http://a/ HTTP/1.1\r\n\r\n", "GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n",
                          "GET http://a/ HTTP/1.1\r\n folded: x\r\n\r\n", "GET http://a/ HTTP/1.1\r\nBad Name: x\r\n\r\n",
                          "GET http://a/ HTTP/1.1\r\nA: b\nC: d\r\n\r\n", "GET http://a/ HTTP/1.1\r\nA: b\rC: d\r\n\r\n",
                          "GET http://a/ HTTP/1.1\r\nA: b\x01\r\n\r\n"}) {
    INFO(bad);
    CHECK(refused(bad).status == 400);
  }
}

TEST_CASE("parseProxyRequest: body framing", "[proxy_http]") {
  auto length = parsed("POST http://a/ HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
  CHECK(length.body == ProxyRequest::Body::length);
  CHECK(length.contentLength == 12);
  CHECK(parsed("POST http://a/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n").body == ProxyRequest::Body::none);
  CHECK(parsed("POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n").contentLength == 5);
  CHECK(parsed("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").body == ProxyRequest::Body::chunked);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").status == 400);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n").status == 400);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status == 400);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").status == 400);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status == 501);
  CHECK(refused("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n").status ==
        501);
}

TEST_CASE("upstreamHead: origin-form, Host from the URI, no proxy or hop-by-hop headers", "[proxy_http]") {
  auto r = parsed(
      "POST http://Example.com:8080/up?x=1 HTTP/1.1\r\n"
      "Host: evil.example\r\n"
      "Proxy-Authorization: Basic eA==\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Connection: keep-alive, X-Secret, Content-Length\r\n"
      "Keep-Alive: timeout=5\r\n"
      "X-Secret: 1\r\n"
      "Upgrade: websocket\r\n"
      "Content-Length: 3\r\n"
      "User-Agent: test\r\n"
      "\r\n");
  CHECK(upstreamHead(r) ==
        "POST /up?x=1 HTTP/1.1\r\n"
        "Host: example.com:8080\r\n"
        "Content-Length: 3\r\n"
        "User-Agent: test\r\n"
        "Connection: close\r\n\r\n");
  CHECK(upstreamHead(parsed("GET http://a.example/ HTTP/1.0\r\n\r\n")) ==
        "GET / HTTP/1.0\r\nHost: a.example\r\nConnection: close\r\n\r\n");
}

TEST_CASE("proxyResponse", "[proxy_http]") {
  CHECK(proxyResponse(403, "isol8: CONNECT to evil.com blocked by network filter") ==
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 52\r\nConnection: close\r\n\r\n"
        "isol8: CONNECT to evil.com blocked by network filter");
  CHECK(proxyResponse(502, "x").rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
}

TEST_CASE("ChunkedBodyScanner", "[proxy_http]") {
  const std::string body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
  SECTION("whole, with what follows it left alone") {
    ChunkedBodyScanner scanner;
    CHECK(scanner.feed(body + "GET /smuggled HTTP/1.1\r\n") == body.size());
    CHECK(scanner.done());
  }
  SECTION("byte by byte") {
    ChunkedBodyScanner scanner;
    for (std::size_t i = 0; i < body.size(); ++i) {
      REQUIRE_FALSE(scanner.done());
      REQUIRE(scanner.feed(body.substr(i, 1)) == 1);
    }
    CHECK(scanner.done());
    CHECK_FALSE(scanner.failed());
  }
  SECTION("no trailer") {
    ChunkedBodyScanner scanner;
    CHECK(scanner.feed("0\r\n\r\nrest") == 5);
    CHECK(scanner.done());
  }
  SECTION("malformed") {
    for (const char* bad : {"x\r\n", "\r\n", "4\nWiki", "4\r\nWikiX", "4\r\nWiki\rX", "1 2\r\n",
                            "1000000000000000\r\n"}) {
      INFO(bad);
      ChunkedBodyScanner scanner;
      scanner.feed(bad);
      CHECK(scanner.failed());
      CHECK_FALSE(scanner.done());
    }
  }
}
