#include "network/proxy_http.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "network/host_policy.hpp"

namespace isol8::detail {

namespace {

constexpr std::size_t kMaxChunkLine = 4096;
constexpr std::size_t kMaxTrailer = 64 * 1024;

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return a.size() == b.size() && lower(a) == lower(b); }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ProxyParseError bad(std::string message) { return ProxyParseError{400, "isol8: " + std::move(message)}; }

// "host", "host:port", "[v6]", "[v6]:port". No userinfo: "a@b" is refused, so a request can
// never name one host to the filter and another to the connection.
std::optional<ProxyParseError> parseAuthority(std::string_view authority, std::uint16_t defaultPort,
                                              ProxyRequest& request) {
  if (authority.empty()) return bad("missing host");
  if (authority.find('@') != std::string_view::npos) return bad("user information in the authority is not supported");
  for (char c : authority) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("invalid character in the host");
    }
  }
  std::string_view host;
  std::string_view rest;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("invalid authority");
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (host.empty() || host == "[]") return bad("missing host");
  request.port = defaultPort;
  if (!rest.empty()) {
    const std::string_view digits = rest.substr(1);
    if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), isDigit)) {
      return bad("invalid port");
    }
    unsigned long value = 0;
    for (char c : digits) value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value == 0 || value > 65535) return bad("invalid port");
    request.port = static_cast<std::uint16_t>(value);
  }
  request.host = normalizeHost(host);
  if (request.host.empty()) return bad("missing host");
  return std::nullopt;
}

std::optional<ProxyParseError> parseAbsoluteUri(std::string_view target, ProxyRequest& request) {
  const std::size_t schemeEnd = target.find("://");
  if (schemeEnd == std::string_view::npos) {
    return bad("a proxy request needs an absolute URI (http://host/path) or CONNECT host:port");
  }
  const std::string scheme = lower(target.substr(0, schemeEnd));
  if (scheme != "http") {
    return ProxyParseError{501, fmt::format("isol8: scheme {} is not proxied; use CONNECT for https", scheme)};
  }
  std::string_view rest = target.substr(schemeEnd + 3);
  const std::size_t authorityEnd = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authorityEnd);
  if (auto error = parseAuthority(authority, 80, request)) return error;
  std::string_view path = authorityEnd == std::string_view::npos ? std::string_view{} : rest.substr(authorityEnd);
  if (const std::size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
  request.path = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  return std::nullopt;
}

std::optional<ProxyParseError> parseBodyFraming(ProxyRequest& request) {
  std::optional<std::string> length;
  bool transferEncoding = false;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), isDigit)) {
        return bad("invalid Content-Length");
      }
      if (length && *length != value) return bad("conflicting Content-Length headers");
      length = value;
    } else if (iequals(name, "transfer-encoding")) {
      if (transferEncoding || !iequals(value, "chunked")) {
        return ProxyParseError{501, "isol8: only Transfer-Encoding: chunked is supported"};
      }
      transferEncoding = true;
    }
  }
  if (length && transferEncoding) return bad("both Content-Length and Transfer-Encoding");
  if (transferEncoding) {
    request.body = ProxyRequest::Body::chunked;
  } else if (length) {
    request.contentLength = std::stoull(*length);
    request.body = request.contentLength == 0 ? ProxyRequest::Body::none : ProxyRequest::Body::length;
  }
  return std::nullopt;
}

}  // namespace

std::variant<ProxyRequest, ProxyParseError> parseProxyRequest(std::string_view head) {
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") return bad("incomplete request head");
  head.remove_suffix(2);  // each line now ends with CRLF
  ProxyRequest request;
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    // A bare CR or LF could split the head differently upstream (request smuggling).
    if (line.find_first_of("\r\n") != std::string_view::npos) return bad("bare CR or LF in the request head");
    lines.push_back(line);
    head.remove_prefix(end + 2);
  }
  if (lines.empty()) return bad("empty request");

  const std::string_view requestLine = lines.front();
  const std::size_t sp1 = requestLine.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : requestLine.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || requestLine.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad("malformed request line");
  }
  request.method = std::string(requestLine.substr(0, sp1));
  const std::string_view target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
  request.version = std::string(requestLine.substr(sp2 + 1));
  if (!isToken(request.method)) return bad("malformed request line");
  if (request.version != "HTTP/1.1" && request.version != "HTTP/1.0") return bad("unsupported HTTP version");
  if (target.empty()) return bad("malformed request line");
  for (char c : target) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return bad("malformed request line");
  }

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty()) return bad("malformed header line");
    if (line.front() == ' ' || line.front() == '\t') return bad("folded header line");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) return bad("malformed header line");
    const std::string_view value = trimOws(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return bad("malformed header line");
    }
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }

  if (request.method == "CONNECT") {
    request.connect = true;
    if (target.find_first_of("/?#") != std::string_view::npos) return bad("CONNECT needs host:port");
    if (auto error = parseAuthority(target, 443, request)) return *error;
    return request;
  }
  if (auto error = parseAbsoluteUri(target, request)) return *error;
  if (auto error = parseBodyFraming(request)) return *error;
  return request;
}

std::string upstreamHead(const ProxyRequest& request) {
  // Headers the client named in Connection are hop-by-hop too, except the ones that frame the
  // body: dropping those would let the client send a body the upstream reads as a new request.
  std::vector<std::string> connectionTokens;
  for (const auto& [name, value] : request.headers) {
    if (!iequals(name, "connection")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string token = lower(trimOws(rest.substr(0, comma)));
      if (!token.empty() && token != "content-length" && token != "transfer-encoding") connectionTokens.push_back(token);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  std::string head = fmt::format("{} {} {}\r\n", request.method, request.path, request.version);
  head += fmt::format("Host: {}\r\n", request.port == 80 ? request.host : hostPort(request));
  for (const auto& [name, value] : request.headers) {
    const std::string key = lower(name);
    if (key == "host" || key == "connection" || key == "keep-alive" || key == "te" || key == "upgrade" ||
        key.rfind("proxy-", 0) == 0 ||
        std::find(connectionTokens.begin(), connectionTokens.end(), key) != connectionTokens.end()) {
      continue;
    }
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "Connection: close\r\n\r\n";
  return head;
}

std::string proxyResponse(int status, std::string_view body) {
  const char* reason = "Error";
  switch (status) {
    case 400: reason = "Bad Request"; break;
    case 403: reason = "Forbidden"; break;
    case 431: reason = "Request Header Fields Too Large"; break;
    case 501: reason = "Not Implemented"; break;
    case 502: reason = "Bad Gateway"; break;
    case 504: reason = "Gateway Timeout"; break;
    default: break;
  }
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                     status, reason, body.size(), body);
}

std::string hostPort(const ProxyRequest& request) { return fmt::format("{}:{}", request.host, request.port); }

bool ChunkedBodyScanner::lineEnded(char c) {
  if (c == '\n') {
    if (line_.empty() || line_.back() != '\r') {
      state_ = State::failed;
      return false;
    }
    line_.pop_back();
    return true;
  }
  line_ += c;
  return false;
}

std::size_t ChunkedBodyScanner::feed(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && state_ != State::done && state_ != State::failed) {
    switch (state_) {
      case State::sizeLine: {
        const char c = data[i++];
        if (line_.size() >= kMaxChunkLine) {
          state_ = State::failed;
          break;
        }
        if (!lineEnded(c)) break;
        std::size_t digits = 0;
        std::uint64_t size = 0;
        while (digits < line_.size() && std::isxdigit(static_cast<unsigned char>(line_[digits]))) {
          if (digits == 15) {  // 15 hex digits: beyond any real body
            state_ = State::failed;
            break;
          }
          const char d = line_[digits++];
          size = size * 16 + static_cast<std::uint64_t>(isDigit(d) ? d - '0' : (d | 0x20) - 'a' + 10);
        }
        if (state_ == State::failed) break;
        const std::string_view after = trimOws(std::string_view(line_).substr(digits));
        if (digits == 0 || (!after.empty() && after.front() != ';')) {
          state_ = State::failed;
          break;
        }
        line_.clear();
        remaining_ = size;
        state_ = size == 0 ? State::trailer : State::data;
        break;
      }
      case State::data: {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::dataCr;
        break;
      }
      case State::dataCr:
        state_ = data[i++] == '\r' ? State::dataLf : State::failed;
        break;
      case State::dataLf:
        state_ = data[i++] == '\n' ? State::sizeLine : State::failed;
        break;
      case State::trailer: {
        const char c = data[i++];
        if (++trailerBytes_ > kMaxTrailer) {
          state_ = State::failed;
          break;
        }
        if (!lineEnded(c)) break;
        if (line_.empty()) state_ = State::done;
        line_.clear();
        break;
      }
      case State::done:
      case State::failed:
        break;
    }
  }
  return i;
}

}  // namespace isol8::detail
