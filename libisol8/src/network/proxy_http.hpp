// The HTTP side of isol8's egress proxy, as pure code: parsing a proxy request head (CONNECT
// or an absolute-URI request), the head forwarded upstream, the proxy's own responses and the
// framing of a chunked request body. No sockets here (see egress_proxy.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace isol8::detail {

struct ProxyRequest {
  std::string method;  // as sent (CONNECT, GET, ...)
  bool connect = false;
  // As requested, through normalizeHost (lower-case, no trailing dot); IPv6 keeps its brackets.
  // Not validated beyond the authority syntax: see isValidHost.
  std::string host;
  std::uint16_t port = 0;  // CONNECT: default 443; http://: default 80
  std::string path;        // plain HTTP: origin-form ("/a?b"); CONNECT: empty
  std::string version;     // HTTP/1.1 or HTTP/1.0
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  enum class Body { none, length, chunked } body = Body::none;
  std::uint64_t contentLength = 0;
};

struct ProxyParseError {
  int status = 400;     // 400, or 501 for what isol8 does not proxy
  std::string message;  // the response body
};

// `head`: the request line and header lines, through the empty line (CRLF CRLF).
std::variant<ProxyRequest, ProxyParseError> parseProxyRequest(std::string_view head);

// The head isol8 sends upstream for a plain-HTTP request: the request line in origin-form, Host
// from the request URI (whatever the client's Host said), the client's other headers except
// Proxy-* and hop-by-hop ones, and Connection: close.
std::string upstreamHead(const ProxyRequest& request);

// One of the proxy's own responses: a text/plain body and Connection: close.
std::string proxyResponse(int status, std::string_view body);

// "<host>:<port>" as used in messages: "example.com:443", "[::1]:80".
std::string hostPort(const ProxyRequest& request);

// Finds the end of a chunked body as its bytes pass by (isol8 forwards it as is, and no further:
// what follows is not part of the request).
class ChunkedBodyScanner {
 public:
  // Scans the next bytes of the body; returns how many belong to it (fewer than data.size() only
  // once done()). Stops at malformed framing (failed()).
  std::size_t feed(std::string_view data);
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State { sizeLine, data, dataCr, dataLf, trailer, done, failed };
  bool lineEnded(char c);  // accumulates line_; true at its LF
  State state_ = State::sizeLine;
  std::string line_;
  std::uint64_t remaining_ = 0;
  std::size_t trailerBytes_ = 0;
};

}  // namespace isol8::detail
