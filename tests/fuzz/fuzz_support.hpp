// What the fuzz targets share (docs/fuzzing.md): the input as text, invariant checks that stop
// the run, the exceptions a parser is documented to throw, and arbitrary chunkings of a
// stream for the parsers that take their input in pieces.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isol8::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// An invariant failed: a crash libFuzzer reports with its reproducer, unlike an exception a
// target might catch by mistake.
inline void require(bool condition) {
  if (!condition) __builtin_trap();
}

// Runs f(); true when it returned, false when it threw one of Expected (the parser's
// documented refusals). Any other exception escapes, and libFuzzer reports it.
template <typename F>
bool completes(F&& f) {
  std::forward<F>(f)();
  return true;
}
template <typename Expected, typename... More, typename F>
bool completes(F&& f) {
  try {
    return completes<More...>(std::forward<F>(f));
  } catch (const Expected&) {
    return false;
  }
}

// A stream cut into pieces: the input's first byte says how many of the following bytes are
// piece lengths (0 to 15); the rest is the stream, fed in pieces of those lengths, cycling
// (a length of 0 feeds an empty piece, which a parser must take too). Seeds stay readable: a
// first byte of 0 (or lengths all 0) feeds the stream whole.
struct Chunked {
  std::string_view stream;
  std::vector<std::size_t> lengths;

  explicit Chunked(std::string_view input) {
    if (input.empty()) return;
    const std::size_t count = std::min<std::size_t>(static_cast<unsigned char>(input[0]) % 16, input.size() - 1);
    for (std::size_t i = 1; i <= count; ++i) lengths.push_back(static_cast<unsigned char>(input[i]));
    if (std::all_of(lengths.begin(), lengths.end(), [](std::size_t n) { return n == 0; })) lengths.clear();
    stream = input.substr(1 + count);
  }

  // Calls feed(piece) for each piece in order, or once with the whole stream.
  template <typename Feed>
  void each(Feed&& feed, bool whole = false) const {
    if (whole || lengths.empty()) return feed(stream);
    std::string_view rest = stream;
    for (std::size_t i = 0; !rest.empty(); i = (i + 1) % lengths.size()) {
      const std::string_view piece = rest.substr(0, lengths[i]);
      rest.remove_prefix(piece.size());
      feed(piece);
    }
  }
};

// Bytes in a range of strings: a parser's output against its input.
template <typename Strings>
std::size_t totalSize(const Strings& strings) {
  std::size_t total = 0;
  for (const auto& s : strings) total += s.size();
  return total;
}

// The stream parsers' first invariant: what parse(input, whole) returns does not depend on how
// the stream was cut. Returns the result of the pieces.
template <typename Parse>
auto independentOfPieces(const Chunked& input, Parse&& parse) {
  auto pieces = parse(input, false);
  require(pieces == parse(input, true));
  return pieces;
}

}  // namespace isol8::fuzz
