#include "docker/stream_demuxer.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <utility>
#include <vector>

#include "test_support.hpp"

using isol8::detail::DockerStream;
using isol8::detail::StreamDemuxer;

namespace {

// One frame as Docker writes it: stream id, three zero bytes, big-endian payload length.
std::string frame(unsigned id, std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out{static_cast<char>(id), 0, 0, 0, static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                  static_cast<char>(n >> 8), static_cast<char>(n)};
  out += payload;
  return out;
}

// Records every sink call, and the per-stream concatenation.
struct Recorder {
  std::vector<std::pair<DockerStream, std::string>> calls;
  std::string out, err, in, sys;
  StreamDemuxer demuxer{[this](DockerStream s, std::string_view p) {
    calls.emplace_back(s, std::string(p));
    switch (s) {
      case DockerStream::stdout_data: out += p; break;
      case DockerStream::stderr_data: err += p; break;
      case DockerStream::stdin_data: in += p; break;
      case DockerStream::systemerr: sys += p; break;
    }
  }};
};

}  // namespace

TEST_CASE("demux: one stdout frame", "[demux]") {
  Recorder r;
  r.demuxer.feed(frame(1, "hello\n"));
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].first == DockerStream::stdout_data);
  CHECK(r.calls[0].second == "hello\n");
  CHECK_FALSE(r.demuxer.midFrame());
}

TEST_CASE("demux: interleaved frames keep their order and stream", "[demux]") {
  Recorder r;
  r.demuxer.feed(frame(1, "out1") + frame(2, "err1") + frame(1, "out2") + frame(2, "err2"));
  using C = std::pair<DockerStream, std::string>;
  CHECK(r.calls == std::vector<C>{{DockerStream::stdout_data, "out1"},
                                  {DockerStream::stderr_data, "err1"},
                                  {DockerStream::stdout_data, "out2"},
                                  {DockerStream::stderr_data, "err2"}});
}

TEST_CASE("demux: stdin (0) and system error (3) ids are legal", "[demux]") {
  Recorder r;
  r.demuxer.feed(frame(0, "typed") + frame(3, "oops"));
  CHECK(r.in == "typed");
  CHECK(r.sys == "oops");
}

TEST_CASE("demux: payload bytes are passed through exactly", "[demux]") {
  Recorder r;
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  r.demuxer.feed(frame(1, all));
  CHECK(r.out == all);
}

TEST_CASE("demux: empty frames produce no sink call", "[demux]") {
  Recorder r;
  r.demuxer.feed(frame(1, "") + frame(2, "x") + frame(1, ""));
  REQUIRE(r.calls.size() == 1);
  CHECK(r.err == "x");
  CHECK_FALSE(r.demuxer.midFrame());
}

TEST_CASE("demux: the length is big-endian and uses all four bytes", "[demux]") {
  Recorder r;
  std::string big(0x01020304 & 0x00ffffff, 'q');  // 0x020304 = 131844 bytes: three length bytes in use
  big[0] = 'A';
  big.back() = 'Z';
  const std::string f = frame(2, big);
  CHECK(f.substr(4, 4) == std::string("\x00\x02\x03\x04", 4));
  r.demuxer.feed(f + frame(1, "after"));
  CHECK(r.err == big);
  CHECK(r.out == "after");
}

TEST_CASE("demux: a large frame is delivered as it arrives", "[demux]") {
  Recorder r;
  const std::string payload(1 << 20, 'x');
  const std::string f = frame(1, payload);
  r.demuxer.feed(std::string_view(f).substr(0, 8 + 1000));
  CHECK(r.out.size() == 1000);  // not held back until the frame is complete
  CHECK(r.demuxer.midFrame());
  r.demuxer.feed(std::string_view(f).substr(8 + 1000));
  CHECK(r.out == payload);
  CHECK_FALSE(r.demuxer.midFrame());
}

TEST_CASE("demux: byte-by-byte feeding", "[demux]") {
  Recorder r;
  const std::string stream = frame(1, "hello ") + frame(2, "warning") + frame(1, "") + frame(1, "world");
  for (std::size_t i = 0; i < stream.size(); ++i) {
    r.demuxer.feed(std::string_view(stream).substr(i, 1));
    // Only the ends of frames are frame boundaries.
    const bool atBoundary = i + 1 == 14 || i + 1 == 29 || i + 1 == 37 || i + 1 == stream.size();
    INFO("after byte " << i);
    CHECK(r.demuxer.midFrame() == !atBoundary);
  }
  CHECK(r.out == "hello world");
  CHECK(r.err == "warning");
}

TEST_CASE("demux: every split into three pieces gives the same result", "[demux]") {
  const std::string stream = frame(1, "abc") + frame(2, "de") + frame(1, "") + frame(3, "f") + frame(1, "ghij");
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      Recorder r;
      r.demuxer.feed(std::string_view(stream).substr(0, i));
      r.demuxer.feed(std::string_view(stream).substr(i, j - i));
      r.demuxer.feed(std::string_view(stream).substr(j));
      INFO("split at " << i << ", " << j);
      REQUIRE(r.out == "abcghij");
      REQUIRE(r.err == "de");
      REQUIRE(r.sys == "f");
      REQUIRE_FALSE(r.demuxer.midFrame());
    }
  }
}

TEST_CASE("demux: midFrame inside a header and inside a payload", "[demux]") {
  Recorder r;
  const std::string f = frame(1, "payload");
  r.demuxer.feed(std::string_view(f).substr(0, 3));
  CHECK(r.demuxer.midFrame());
  r.demuxer.feed(std::string_view(f).substr(3, 5));  // header complete, payload not started
  CHECK(r.demuxer.midFrame());
  CHECK(r.calls.empty());
  r.demuxer.feed(std::string_view(f).substr(8));
  CHECK_FALSE(r.demuxer.midFrame());
  CHECK(r.out == "payload");
}

TEST_CASE("demux: unknown stream ids are rejected", "[demux]") {
  for (unsigned id : {4u, 5u, 0x7fu, 0xffu}) {
    Recorder r;
    INFO("id " << id);
    CHECK_THROWS_WITH(r.demuxer.feed(frame(id, "x")),
                      "Malformed Docker stream: unknown stream id " + std::to_string(id));
    CHECK(r.calls.empty());
  }
}

TEST_CASE("demux: non-zero padding is rejected", "[demux]") {
  for (int pos = 1; pos <= 3; ++pos) {
    Recorder r;
    std::string f = frame(1, "x");
    f[static_cast<std::size_t>(pos)] = 1;
    INFO("padding byte " << pos);
    CHECK_THROWS_AS(r.demuxer.feed(f), std::runtime_error);
    CHECK(r.calls.empty());
  }
  Recorder r;
  CHECK_THROWS_WITH(r.demuxer.feed(bytes("\x01\x00\x00\x01\x00\x00\x00\x01x")),
                    "Malformed Docker stream: non-zero padding in frame header");
}

TEST_CASE("demux: a bad header is detected once it is complete", "[demux]") {
  Recorder r;
  r.demuxer.feed(frame(1, "ok"));
  const std::string bad = frame(9, "x");
  CHECK_NOTHROW(r.demuxer.feed(std::string_view(bad).substr(0, 5)));
  CHECK_THROWS_AS(r.demuxer.feed(std::string_view(bad).substr(5)), std::runtime_error);
  CHECK(r.out == "ok");  // what came before was delivered
}

TEST_CASE("demux: raw (non-multiplexed) output is not silently accepted", "[demux]") {
  // A TTY exec stream has no frame headers; its text must not be taken for frames.
  Recorder r;
  CHECK_THROWS_AS(r.demuxer.feed("hello world, this is plain text\n"), std::runtime_error);
}
