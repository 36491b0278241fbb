// The egress proxy's request parsing (network/proxy_http.hpp): a sandboxed program's HTTP
// proxy requests, whose host the filter decides on. Input: a request head, then the bytes of
// a chunked body (cut into pieces as fuzz_support.hpp's Chunked says). Invariants: an
// accepted request names a host and port, and the head sent upstream has exactly one Host
// line and no CR or LF inside a line (nothing for the upstream to read as a second request);
// the chunked scanner's verdict does not depend on the pieces, and it never takes a byte
// past the end of the body.
#include "fuzz_support.hpp"
#include "network/proxy_http.hpp"

using namespace isol8;

namespace {

void checkUpstreamHead(const std::string& head) {
  fuzz::require(head.ends_with("\r\n\r\n"));
  std::string_view rest(head);
  rest.remove_suffix(2);
  int hosts = 0;
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    fuzz::require(line.find_first_of("\r\n") == std::string_view::npos);
    if (line.size() >= 5 && (line[0] | 0x20) == 'h' && (line[1] | 0x20) == 'o' && (line[2] | 0x20) == 's' &&
        (line[3] | 0x20) == 't' && line[4] == ':')
      ++hosts;
    rest.remove_prefix(end + 2);
  }
  fuzz::require(hosts == 1);
}

struct Scanned {
  std::size_t taken = 0;
  bool done = false, failed = false;
  bool operator==(const Scanned&) const = default;
};

Scanned scan(const fuzz::Chunked& body, bool whole) {
  detail::ChunkedBodyScanner scanner;
  Scanned out;
  auto feed = [&](std::string_view piece) {
    const std::size_t n = scanner.feed(piece);
    fuzz::require(n <= piece.size());
    fuzz::require(n == piece.size() || scanner.done() || scanner.failed());
    out.taken += n;
  };
  body.each(feed, whole);
  out.done = scanner.done();
  out.failed = scanner.failed();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::text(data, size);
  const auto headEnd = input.find("\r\n\r\n");
  const std::string_view head = input.substr(0, headEnd == std::string_view::npos ? input.size() : headEnd + 4);
  const auto parsed = detail::parseProxyRequest(head);
  if (const auto* error = std::get_if<detail::ProxyParseError>(&parsed)) {
    fuzz::require((error->status == 400 || error->status == 501) && error->message.starts_with("isol8: "));
  } else {
    const auto& request = std::get<detail::ProxyRequest>(parsed);
    fuzz::require(!request.host.empty() && request.port != 0 && request.connect == (request.method == "CONNECT"));
    if (!request.connect) {
      fuzz::require(request.path.starts_with('/'));
      checkUpstreamHead(detail::upstreamHead(request));
    }
  }
  const fuzz::Chunked body(input.substr(head.size()));
  fuzz::independentOfPieces(body, scan);
  return 0;
}
