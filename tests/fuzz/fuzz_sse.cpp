// SseParser (remote/sse_parser.hpp): the client's reading of a server's event stream, which
// arrives in whatever pieces the network makes. Invariants: the events do not depend on the
// pieces, and they carry no more bytes than the stream did.
#include "fuzz_support.hpp"
#include "remote/sse_parser.hpp"

using namespace isol8;

namespace {

std::vector<std::string> events(const fuzz::Chunked& input, bool whole) {
  detail::SseParser parser;
  std::vector<std::string> out;
  auto feed = [&](std::string_view piece) {
    for (auto& event : parser.feed(piece)) out.push_back(std::move(event));
  };
  input.each(feed, whole);
  for (auto& event : parser.finish()) out.push_back(std::move(event));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Chunked input(fuzz::text(data, size));
  const auto pieces = fuzz::independentOfPieces(input, events);
  fuzz::require(fuzz::totalSize(pieces) <= input.stream.size());
  return 0;
}
