// The supervisor protocol (supervisor/protocol.hpp): the engine decodes what a container's
// supervisor writes, and the supervisor decodes what the engine writes, so both directions
// read untrusted bytes. Invariants: frames do not depend on how the stream was split; every
// body a decoder accepts re-encodes to a frame of the same size that decodes and re-encodes
// to itself (booleans and flag bytes may be normalised once, nothing else).
#include "fuzz_support.hpp"
#include "supervisor/protocol.hpp"

using namespace isol8;
using namespace isol8::supervisor;

namespace {

struct Split {
  std::vector<Frame> frames;
  bool refused = false;
  // A bad header stops both ways at the same frame; only a bad header in the last 5-8 bytes is
  // seen by feed() (pieces) before next() (whole) would look at it, so `refused` may differ.
  bool operator==(const Split& other) const {
    return std::equal(frames.begin(), frames.end(), other.frames.begin(), other.frames.end(),
                      [](const Frame& x, const Frame& y) { return x.type == y.type && x.id == y.id && x.body == y.body; });
  }
};

Split split(const fuzz::Chunked& input, bool whole) {
  Split out;
  FrameSplitter splitter;
  auto feed = [&](std::string_view piece) {
    splitter.feed(piece);
    while (auto frame = splitter.next()) out.frames.push_back(std::move(*frame));
  };
  out.refused = !fuzz::completes<ProtocolError>([&] { input.each(feed, whole); });
  return out;
}

// The body of an encoded frame (after size, type, id), as the splitter would hand it out.
std::string_view bodyOf(std::string_view encoded) { return encoded.substr(9); }

// decode → encode, twice: the first encoding has the original's size and is a fixed point.
template <typename Encode>
void roundTrip(const Frame& frame, Encode encodeBody) {
  std::string first;
  if (!fuzz::completes<ProtocolError>([&] { first = encodeBody(frame.body); })) return;
  fuzz::require(first.size() == 9 + frame.body.size());
  fuzz::require(encodeBody(bodyOf(first)) == first);
}

void check(const Frame& f) {
  const std::uint32_t id = f.id;
  switch (f.type) {
    case Type::run: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeRun(b)); });
    case Type::stdin_data:
      return roundTrip(f, [id](std::string_view b) { return encodeData(Type::stdin_data, id, decodeData(b)); });
    case Type::cancel: return;  // no body to read
    case Type::write_files: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeFiles(b)); });
    case Type::read_files: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeRead(b)); });
    case Type::reset: return roundTrip(f, [id](std::string_view b) { return encodeReset(id, decodeReset(b)); });
    case Type::ready: return roundTrip(f, [](std::string_view b) { return encodeReady(decodeReady(b)); });
    case Type::output:
      return roundTrip(f, [id](std::string_view b) {
        std::string data;
        const OutputStream stream = decodeOutput(b, data);
        return encodeOutput(id, stream, data);
      });
    case Type::exit: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeExit(b)); });
    case Type::done: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeDone(b)); });
    case Type::file: return roundTrip(f, [id](std::string_view b) { return encode(id, decodeFile(b)); });
  }
  fuzz::require(false);  // the splitter let an unknown type through
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Chunked input(fuzz::text(data, size));
  const Split pieces = fuzz::independentOfPieces(input, split);
  for (const Frame& frame : pieces.frames) check(frame);
  return 0;
}
