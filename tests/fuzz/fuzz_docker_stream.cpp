// StreamDemuxer (docker/stream_demuxer.hpp): Docker's multiplexed exec output, written by the
// container's processes. Invariants: what each stream receives does not depend on how the
// bytes were split, a malformed header is refused at the same point either way, and the
// output is never more than the input.
#include <stdexcept>

#include "docker/stream_demuxer.hpp"
#include "fuzz_support.hpp"

using namespace isol8;

namespace {

struct Demuxed {
  std::string streams[4];
  bool refused = false;
  bool midFrame = false;
  bool operator==(const Demuxed&) const = default;
};

Demuxed demux(const fuzz::Chunked& input, bool whole) {
  Demuxed out;
  detail::StreamDemuxer demuxer([&](detail::DockerStream stream, std::string_view payload) {
    out.streams[static_cast<int>(stream)].append(payload);
  });
  out.refused = !fuzz::completes<std::runtime_error>(
      [&] { input.each([&](std::string_view piece) { demuxer.feed(piece); }, whole); });
  out.midFrame = !out.refused && demuxer.midFrame();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Chunked input(fuzz::text(data, size));
  const Demuxed pieces = fuzz::independentOfPieces(input, demux);
  fuzz::require(fuzz::totalSize(pieces.streams) <= input.stream.size());
  return 0;
}
