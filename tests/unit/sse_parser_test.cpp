#include "remote/sse_parser.hpp"

#include <catch2/catch.hpp>

using isol8::detail::SseParser;
using Strings = std::vector<std::string>;

TEST_CASE("SseParser: one frame per event", "[sse]") {
  SseParser parser;
  CHECK(parser.feed("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n") == Strings{"{\"a\":1}", "{\"b\":2}"});
  CHECK(parser.finish().empty());
}

TEST_CASE("SseParser: a frame split across reads, also inside the line break", "[sse]") {
  SseParser parser;
  CHECK(parser.feed("da").empty());
  CHECK(parser.feed("ta: {\"x\"").empty());
  CHECK(parser.feed(":\"y\"}\r").empty());
  CHECK(parser.feed("\n\r").empty());
  CHECK(parser.feed("\n") == Strings{"{\"x\":\"y\"}"});
}

TEST_CASE("SseParser: every split point of a stream gives the same events", "[sse]") {
  const std::string stream = "data: one\r\n\r\n: keep-alive\n\ndata:two\n\ndata: three\n\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser parser;
    auto events = parser.feed(std::string_view(stream).substr(0, cut));
    auto rest = parser.feed(std::string_view(stream).substr(cut));
    events.insert(events.end(), rest.begin(), rest.end());
    INFO("cut at " << cut);
    CHECK(events == Strings{"one", "two", "three"});
  }
}

TEST_CASE("SseParser: comments are keep-alives, not events", "[sse]") {
  SseParser parser;
  CHECK(parser.feed(": keep-alive\n\n:\n\n").empty());
  CHECK(parser.feed(": ping\ndata: x\n\n") == Strings{"x"});
}

TEST_CASE("SseParser: other fields are skipped; data lines of one event are joined", "[sse]") {
  SseParser parser;
  CHECK(parser.feed("event: message\nid: 7\nretry: 100\ndata: a\ndata: b\n\n") == Strings{"a\nb"});
  CHECK(parser.feed("event: only\n\n").empty());
  CHECK(parser.feed("data\n\n") == Strings{""});
  CHECK(parser.feed("data:  two spaces\n\n") == Strings{" two spaces"});
}

TEST_CASE("SseParser: finish yields an event the body did not end", "[sse]") {
  SseParser parser;
  CHECK(parser.feed("data: last").empty());
  CHECK(parser.finish() == Strings{"last"});
  CHECK(parser.finish().empty());
  CHECK(parser.feed("data: x\n").empty());
  CHECK(parser.finish() == Strings{"x"});
}
