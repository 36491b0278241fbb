// The engine↔supervisor frames: every message round-trips, a stream split anywhere gives the
// same frames, and a frame that lies about its size or contents is refused, never allocated.
#include <catch2/catch.hpp>

#include "supervisor/protocol.hpp"

using namespace isol8::supervisor;

TEST_CASE("supervisor protocol: a run request round-trips", "[supervisor]") {
  RunRequest run;
  run.timeoutMs = 1234;
  run.outputLimit = 99;
  run.stdinOpen = true;
  run.cwd = "/sandbox/x";
  run.argv = {"python3", "-c", std::string("print('\0')", 11)};
  run.env = {"A=1", "B="};
  run.scriptPath = "/sandbox/main.mts";
  run.script = std::string("console.log(1)\0", 15);
  FrameSplitter splitter;
  splitter.feed(encode(7, run));
  auto frame = splitter.next();
  REQUIRE(frame);
  CHECK(frame->type == Type::run);
  CHECK(frame->id == 7);
  auto back = decodeRun(frame->body);
  CHECK(back.timeoutMs == 1234);
  CHECK(back.outputLimit == 99);
  CHECK(back.stdinOpen);
  CHECK(back.cwd == "/sandbox/x");
  CHECK(back.argv == run.argv);
  CHECK(back.env == run.env);
  CHECK(back.scriptPath == run.scriptPath);
  CHECK(back.script == run.script);
  CHECK_FALSE(splitter.next());
}

TEST_CASE("supervisor protocol: exit, done, file and files round-trip", "[supervisor]") {
  ExitReport exit;
  exit.exitCode = 137;
  exit.timedOut = true;
  exit.droppedStderr = 7;
  exit.cpuUserUs = 5;
  exit.peakRssKb = 200 * 1024;
  exit.oomKills = 2;
  auto e = decodeExit(encode(1, exit).substr(9));
  CHECK(e.exitCode == 137);
  CHECK(e.timedOut);
  CHECK_FALSE(e.cancelled);
  CHECK(e.droppedStderr == 7);
  CHECK(e.cpuUserUs == 5);
  CHECK(e.peakRssKb == 200 * 1024);
  CHECK(e.oomKills == 2);

  auto d = decodeDone(encode(2, Done{false, "left"}).substr(9));
  CHECK_FALSE(d.ok);
  CHECK(d.message == "left");

  auto f = decodeFile(encode(3, FileReport{FileStatus::too_large, "9"}).substr(9));
  CHECK(f.status == FileStatus::too_large);

  FilesRequest files;
  files.files.push_back(FilePiece{"/sandbox/a", "xyz", false});
  files.files.push_back(FilePiece{"/sandbox/a", "more", true});
  auto back = decodeFiles(encode(4, files).substr(9));
  REQUIRE(back.files.size() == 2);
  CHECK(back.files[1].content == "more");
  CHECK(back.files[1].append);
  CHECK(decodeReset(encodeReset(5, ResetScope::everything).substr(9)) == ResetScope::everything);
}

TEST_CASE("supervisor protocol: frames split at every byte come out whole", "[supervisor]") {
  std::string stream = encodeOutput(1, OutputStream::stdout_stream, "hello") + encodeReady(kProtocolVersion) +
                       encodeOutput(2, OutputStream::stderr_stream, std::string(70000, 'x'));
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{9}, std::size_t{1000}}) {
    FrameSplitter splitter;
    std::vector<Frame> frames;
    for (std::size_t at = 0; at < stream.size(); at += cut) {
      splitter.feed(std::string_view(stream).substr(at, cut));
      while (auto f = splitter.next()) frames.push_back(*f);
    }
    REQUIRE(frames.size() == 3);
    std::string data;
    CHECK(decodeOutput(frames[0].body, data) == OutputStream::stdout_stream);
    CHECK(data == "hello");
    CHECK(decodeReady(frames[1].body) == kProtocolVersion);
    CHECK(decodeOutput(frames[2].body, data) == OutputStream::stderr_stream);
    CHECK(data.size() == 70000);
    CHECK_FALSE(splitter.midFrame());
  }
}

TEST_CASE("supervisor protocol: lies are refused", "[supervisor]") {
  SECTION("a size past the frame limit, before its bytes arrive") {
    FrameSplitter splitter;
    std::string header("\xff\xff\xff\x7f\x0b", 5);
    CHECK_THROWS_AS(splitter.feed(header), ProtocolError);
  }
  SECTION("the limit itself is accepted, one past it is not") {
    auto header = [](std::uint64_t size) {
      std::string h(5, '\0');
      for (int i = 0; i < 4; ++i) h[i] = static_cast<char>((size >> (8 * i)) & 0xff);
      h[4] = static_cast<char>(Type::output);
      return h;
    };
    FrameSplitter ok;
    CHECK_NOTHROW(ok.feed(header(kMaxFrame + 5)));
    FrameSplitter over;
    CHECK_THROWS_AS(over.feed(header(kMaxFrame + 6)), ProtocolError);
  }
  SECTION("an unknown type") {
    FrameSplitter splitter;
    CHECK_THROWS_AS(splitter.feed(std::string("\x05\0\0\0\x63", 5)), ProtocolError);
  }
  SECTION("a string length past the body") {
    std::string body("\x01\xff\xff\x00\x00", 5);  // stream 1, then a 65535-byte string that is not there
    std::string data;
    CHECK_THROWS_AS(decodeOutput(body, data), ProtocolError);
  }
  SECTION("a list count larger than the body could hold") {
    RunRequest run;
    run.argv = {"x"};
    std::string body = encode(1, run).substr(9);
    // argv's count sits after timeout (4), limit (8), stdin (1) and cwd (4 + 8 bytes).
    const std::size_t countAt = 4 + 8 + 1 + 4 + run.cwd.size();
    body[countAt] = '\xff';
    body[countAt + 1] = '\x0f';
    CHECK_THROWS_AS(decodeRun(body), ProtocolError);
  }
  SECTION("trailing bytes") { CHECK_THROWS_AS(decodeDone(encode(1, Done{}).substr(9) + "x"), ProtocolError); }
  SECTION("a run without a program") { CHECK_THROWS_AS(decodeRun(encode(1, RunRequest{}).substr(9)), ProtocolError); }
  SECTION("a script without a path") {
    RunRequest run;
    run.argv = {"x"};
    run.script = "code";
    CHECK_THROWS_AS(decodeRun(encode(1, run).substr(9)), ProtocolError);
  }
}
