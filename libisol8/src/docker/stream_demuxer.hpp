// Splits Docker's multiplexed attach/exec stream (8-byte frame headers: stream id, 3 zero
// bytes, big-endian payload length) back into stdout and stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace isol8::detail {

enum class DockerStream : std::uint8_t { stdin_data = 0, stdout_data = 1, stderr_data = 2, systemerr = 3 };

class StreamDemuxer {
 public:
  using Sink = std::function<void(DockerStream, std::string_view payload)>;
  explicit StreamDemuxer(Sink sink) : sink_(std::move(sink)) {}

  // Feeds raw bytes as read from the socket, in any split. Payload pieces are passed to the
  // sink as soon as they arrive (a large frame may come in several calls). Throws
  // std::runtime_error on a malformed header (unknown stream id or non-zero padding).
  void feed(std::string_view bytes);

  // True when the bytes fed so far end inside a frame (header or payload).
  bool midFrame() const { return headerFill_ != 0 || remaining_ != 0; }

 private:
  Sink sink_;
  unsigned char header_[8] = {};
  std::size_t headerFill_ = 0;
  std::uint32_t remaining_ = 0;
  DockerStream current_ = DockerStream::stdout_data;
};

}  // namespace isol8::detail
