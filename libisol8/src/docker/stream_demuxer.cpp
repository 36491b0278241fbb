#include "docker/stream_demuxer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace isol8::detail {

void StreamDemuxer::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (remaining_ == 0) {
      // Between frames: collect the 8-byte header, which may itself arrive in pieces.
      const std::size_t take = std::min(sizeof header_ - headerFill_, bytes.size());
      std::memcpy(header_ + headerFill_, bytes.data(), take);
      headerFill_ += take;
      bytes.remove_prefix(take);
      if (headerFill_ < sizeof header_) return;

      headerFill_ = 0;
      if (header_[0] > static_cast<unsigned char>(DockerStream::systemerr)) {
        throw std::runtime_error(
            fmt::format("Malformed Docker stream: unknown stream id {}", static_cast<unsigned>(header_[0])));
      }
      if (header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
        throw std::runtime_error("Malformed Docker stream: non-zero padding in frame header");
      }
      current_ = static_cast<DockerStream>(header_[0]);
      remaining_ = static_cast<std::uint32_t>(header_[4]) << 24 | static_cast<std::uint32_t>(header_[5]) << 16 |
                   static_cast<std::uint32_t>(header_[6]) << 8 | static_cast<std::uint32_t>(header_[7]);
      continue;  // an empty frame carries nothing: go straight to the next header
    }

    // Inside a payload: pass on what we have now rather than waiting for the whole frame,
    // so a long line of output reaches a streaming consumer as it is produced.
    const std::size_t take = std::min<std::size_t>(remaining_, bytes.size());
    const std::string_view piece = bytes.substr(0, take);
    // State first: if the sink throws, the demuxer still points at the right byte.
    remaining_ -= static_cast<std::uint32_t>(take);
    bytes.remove_prefix(take);
    sink_(current_, piece);
  }
}

}  // namespace isol8::detail
