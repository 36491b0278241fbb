#include "util/tar.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <stdexcept>

#include "test_support.hpp"

using isol8::detail::readTarFiles;
using isol8::detail::TarWriter;
using Files = std::map<std::string, std::string>;

namespace {

std::string field(std::string_view block, std::size_t offset, std::size_t width) {
  return std::string(block.substr(offset, width));
}

// Checksum as POSIX defines it, computed independently of the writer.
unsigned checksumOf(std::string_view block) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  return sum;
}

std::string octal(unsigned long long value, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llo", digits, value);
  return buf;
}

// A hand-made header block, for archives our writer does not produce (GNU, pax, v7, ...).
struct Raw {
  std::string name;
  char type = '0';
  std::size_t size = 0;
  std::string magic = std::string("ustar\0" "00", 8);  // POSIX; GNU is "ustar  \0"
  std::string prefix;
  std::string rawSize;  // overrides the size field verbatim (e.g. base-256)
};

std::string header(const Raw& h) {
  std::string b(512, '\0');
  b.replace(0, h.name.size(), h.name);
  b.replace(100, 8, "0000644", 8);
  b.replace(108, 8, "0000000", 8);
  b.replace(116, 8, "0000000", 8);
  const std::string size = h.rawSize.empty() ? octal(h.size, 11) : h.rawSize;
  b.replace(124, size.size(), size);
  b.replace(136, 11, "00000000000");
  b[156] = h.type;
  b.replace(257, h.magic.size(), h.magic);
  b.replace(345, h.prefix.size(), h.prefix);
  b.replace(148, 8, octal(checksumOf(b), 6) + std::string("\0 ", 2));
  return b;
}

std::string padded(std::string data) {
  data.append((512 - data.size() % 512) % 512, '\0');
  return data;
}

std::string entry(const Raw& h, const std::string& data) {
  Raw withSize = h;
  if (h.rawSize.empty()) withSize.size = data.size();
  return header(withSize) + padded(data);
}

const std::string kEnd(1024, '\0');

// One pax record: "<len> key=value\n" where len counts the whole record, itself included.
std::string paxRecord(const std::string& key, const std::string& value) {
  const std::string body = " " + key + "=" + value + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

}  // namespace

// ---- writer -----------------------------------------------------------------------------

TEST_CASE("tar writer: header fields of a file", "[tar]") {
  TarWriter w;
  w.addFile("hello.txt", "hello");
  const std::string archive = w.finish();
  REQUIRE(archive.size() == 512 + 512 + 1024);
  const std::string_view h(archive.data(), 512);

  CHECK(field(h, 0, 100) == "hello.txt" + std::string(91, '\0'));
  CHECK(field(h, 100, 8) == bytes("0000644\0"));
  CHECK(field(h, 108, 8) == bytes("0000000\0"));
  CHECK(field(h, 116, 8) == bytes("0000000\0"));
  CHECK(field(h, 124, 12) == bytes("00000000005\0"));
  CHECK(field(h, 136, 12) == bytes("00000000000\0"));
  CHECK(h[156] == '0');
  CHECK(field(h, 257, 6) == bytes("ustar\0"));
  CHECK(field(h, 263, 2) == "00");
  CHECK(field(h, 345, 155) == std::string(155, '\0'));
  // Checksum: six octal digits, NUL, space.
  CHECK(field(h, 148, 8) == octal(checksumOf(h), 6) + bytes("\0 "));

  CHECK(archive.substr(512, 5) == "hello");
  CHECK(archive.substr(517) == std::string(507 + 1024, '\0'));  // padding, then the end blocks
}

TEST_CASE("tar writer: mode, directory entries, empty archive", "[tar]") {
  TarWriter w;
  w.addFile("run.sh", "#!/bin/sh\n", 0755);
  w.addDirectory("dir/sub");
  w.addDirectory("other/", 0700);
  const std::string archive = w.finish();
  REQUIRE(archive.size() == 512 * 2 + 512 * 2 + 1024);
  CHECK(field(archive, 100, 8) == bytes("0000755\0"));

  const std::string_view dir(archive.data() + 1024, 512);
  CHECK(field(dir, 0, 8) == bytes("dir/sub/"));
  CHECK(dir[8] == '\0');
  CHECK(dir[156] == '5');
  CHECK(field(dir, 100, 8) == bytes("0000755\0"));
  CHECK(field(dir, 124, 12) == bytes("00000000000\0"));
  CHECK(field(dir, 148, 8) == octal(checksumOf(dir), 6) + bytes("\0 "));

  const std::string_view other(archive.data() + 1536, 512);
  CHECK(field(other, 0, 7) == bytes("other/\0"));
  CHECK(field(other, 100, 8) == bytes("0000700\0"));

  CHECK(TarWriter().finish() == kEnd);
}

TEST_CASE("tar writer: content sizes around the block size", "[tar]") {
  for (std::size_t n : {0u, 1u, 511u, 512u, 513u, 1024u, 5000u}) {
    TarWriter w;
    w.addFile("f", std::string(n, 'x'));
    const std::string archive = w.finish();
    INFO("size " << n);
    CHECK(archive.size() == 512 + (n + 511) / 512 * 512 + 1024);
    CHECK(field(archive, 124, 12) == octal(n, 11) + std::string(1, '\0'));
  }
}

TEST_CASE("tar writer: long paths use the ustar prefix field", "[tar]") {
  const std::string dir = std::string(60, 'd') + "/" + std::string(60, 'e');  // 121 bytes
  const std::string name = std::string(90, 'n') + ".txt";                    // 94 bytes
  const std::string path = dir + "/" + name;                                  // 216 bytes
  TarWriter w;
  w.addFile(path, "deep");
  const std::string archive = w.finish();
  CHECK(field(archive, 0, 100) == name + std::string(6, '\0'));
  CHECK(field(archive, 345, 155) == dir + std::string(155 - dir.size(), '\0'));
  CHECK(readTarFiles(archive) == Files{{path, "deep"}});
}

TEST_CASE("tar writer: the split keeps the name field as long as possible", "[tar]") {
  // Splitting at the first '/' leaves a 100-byte name: "a" goes to the prefix.
  const std::string path = "a/" + std::string(49, 'b') + "/" + std::string(50, 'c');
  REQUIRE(path.size() == 102);
  TarWriter w;
  w.addFile(path, "");
  const std::string archive = w.finish();
  CHECK(field(archive, 345, 2) == bytes("a\0"));
  CHECK(readTarFiles(archive) == Files{{path, ""}});
}

TEST_CASE("tar writer: paths it cannot or must not write", "[tar]") {
  TarWriter w;
  CHECK_THROWS_AS(w.addFile(std::string(101, 'x'), ""), std::invalid_argument);  // no '/' to split at
  CHECK_THROWS_AS(w.addFile(std::string(156, 'p') + "/" + "name", ""), std::invalid_argument);  // prefix > 155
  CHECK_THROWS_AS(w.addFile("a/" + std::string(101, 'x'), ""), std::invalid_argument);  // name > 100
  CHECK_THROWS_AS(w.addFile("", "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addFile("/etc/passwd", "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addFile("../escape", "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addFile("a/../../escape", "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addFile("a/..", "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addFile(bytes("a\0b"), "x"), std::invalid_argument);
  CHECK_THROWS_AS(w.addDirectory("/"), std::invalid_argument);
  // Names that merely contain dots are fine.
  CHECK_NOTHROW(w.addFile("..hidden/.x..", "x"));
  CHECK(readTarFiles(w.finish()) == Files{{"..hidden/.x..", "x"}});
}

TEST_CASE("tar writer: a 256-byte path fills both fields", "[tar]") {
  const std::string path = std::string(155, 'p') + "/" + std::string(100, 'n');
  TarWriter w;
  w.addFile(path, "max");
  CHECK(readTarFiles(w.finish()) == Files{{path, "max"}});
}

// ---- round trips ------------------------------------------------------------------------

TEST_CASE("tar round trip: text, binary, empty and nested files", "[tar]") {
  std::string binary;
  for (int i = 0; i < 1000; ++i) binary += static_cast<char>(i * 7 % 256);
  TarWriter w;
  w.addFile("main.py", "print('hi')\n");
  w.addFile("bin/data.bin", binary);
  w.addDirectory("empty-dir");
  w.addFile("empty", "");
  w.addFile("a/b/c/d.txt", std::string(512, 'z'));
  CHECK(readTarFiles(w.finish()) == Files{{"main.py", "print('hi')\n"},
                                          {"bin/data.bin", binary},
                                          {"empty", ""},
                                          {"a/b/c/d.txt", std::string(512, 'z')}});
}

// ---- reader -----------------------------------------------------------------------------

TEST_CASE("tar reader: empty archives", "[tar]") {
  CHECK(readTarFiles("").empty());
  CHECK(readTarFiles(kEnd).empty());
}

TEST_CASE("tar reader: leading ./ is removed, directories and links skipped", "[tar]") {
  const std::string archive = entry({.name = "./", .type = '5'}, "") + entry({.name = "./out.txt"}, "result") +
                              entry({.name = "./sub/", .type = '5'}, "") +
                              entry({.name = "./sub/link", .type = '2'}, "") +
                              entry({.name = "./sub/hard", .type = '1'}, "") +
                              entry({.name = "./sub/fifo", .type = '6'}, "") + entry({.name = "././x"}, "x") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"out.txt", "result"}, {"x", "x"}});
}

TEST_CASE("tar reader: old-style entries", "[tar]") {
  // v7: no magic, type NUL; a trailing '/' on a "regular" entry means a directory.
  const std::string archive = entry({.name = "v7.txt", .type = '\0', .magic = ""}, "old") +
                              entry({.name = "v7dir/", .type = '\0', .magic = ""}, "") +
                              entry({.name = "contig", .type = '7'}, "c") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"v7.txt", "old"}, {"contig", "c"}});
}

TEST_CASE("tar reader: ustar prefix, but not in GNU headers", "[tar]") {
  const std::string posix = entry({.name = "file.txt", .prefix = "some/dir"}, "p");
  // GNU headers keep other data (atime, ...) where ustar has the prefix.
  const std::string gnu =
      entry({.name = "gnu.txt", .magic = std::string("ustar  \0", 8), .prefix = "14567012345"}, "g");
  CHECK(readTarFiles(posix + gnu + kEnd) == Files{{"some/dir/file.txt", "p"}, {"gnu.txt", "g"}});
}

TEST_CASE("tar reader: GNU long names ('L')", "[tar]") {
  const std::string longName = "sandbox/" + std::string(200, 'L') + "/result.json";
  const std::string archive = entry({.name = "././@LongLink", .type = 'L', .magic = std::string("ustar  \0", 8)},
                                    longName + std::string(1, '\0')) +
                              entry({.name = longName.substr(0, 100), .magic = std::string("ustar  \0", 8)}, "{}") +
                              entry({.name = "short"}, "s") + kEnd;
  CHECK(readTarFiles(archive) == Files{{longName, "{}"}, {"short", "s"}});
}

TEST_CASE("tar reader: pax extended headers ('x')", "[tar]") {
  const std::string longName = std::string(120, 'x') + "/" + std::string(120, 'y') + "/" + std::string(30, 'z');
  const std::string pax = paxRecord("mtime", "1700000000.5") + paxRecord("path", longName) +
                          paxRecord("comment", "a=b c\nd");
  const std::string archive = entry({.name = "PaxHeaders.0/trunc", .type = 'x'}, pax) +
                              entry({.name = "trunc"}, "pax content") +
                              entry({.name = "next"}, "not renamed") + kEnd;
  CHECK(readTarFiles(archive) == Files{{longName, "pax content"}, {"next", "not renamed"}});
}

TEST_CASE("tar reader: a pax path applies to the next entry even if it is a directory", "[tar]") {
  const std::string archive = entry({.name = "PaxHeaders/d", .type = 'x'}, paxRecord("path", "long/dir")) +
                              entry({.name = "d/", .type = '5'}, "") + entry({.name = "f"}, "f") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"f", "f"}});
}

TEST_CASE("tar reader: pax size overrides the header size", "[tar]") {
  const std::string archive = entry({.name = "PaxHeaders/big", .type = 'x'}, paxRecord("size", "11")) +
                              header({.name = "big", .size = 0}) + padded("hello world") +
                              entry({.name = "after"}, "a") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"big", "hello world"}, {"after", "a"}});
}

TEST_CASE("tar reader: global pax headers are ignored", "[tar]") {
  const std::string archive = entry({.name = "pax_global_header", .type = 'g'}, paxRecord("comment", "git archive")) +
                              entry({.name = "f"}, "1") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"f", "1"}});
}

TEST_CASE("tar reader: GNU base-256 size", "[tar]") {
  const std::string size = std::string("\x80", 1) + std::string(10, '\0') + "\x05";
  const std::string archive = header({.name = "b256", .rawSize = size}) + padded("12345") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"b256", "12345"}});
}

TEST_CASE("tar reader: octal fields padded with spaces", "[tar]") {
  const std::string archive = header({.name = "sp", .rawSize = std::string("          3 ")}) + padded("abc") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"sp", "abc"}});
}

TEST_CASE("tar reader: the last entry of a name wins", "[tar]") {
  const std::string archive = entry({.name = "f"}, "old") + entry({.name = "./f"}, "new") + kEnd;
  CHECK(readTarFiles(archive) == Files{{"f", "new"}});
}

TEST_CASE("tar reader: missing end blocks are tolerated", "[tar]") {
  CHECK(readTarFiles(entry({.name = "f"}, "data")) == Files{{"f", "data"}});
}

TEST_CASE("tar reader: malformed archives throw", "[tar]") {
  const std::string good = entry({.name = "f"}, "data");

  SECTION("bad checksum") {
    std::string bad = good;
    bad[0] = 'g';
    CHECK_THROWS_WITH(readTarFiles(bad + kEnd), "Malformed tar archive: header checksum mismatch");
  }
  SECTION("partial header block") {
    CHECK_THROWS_WITH(readTarFiles(good.substr(0, 300)), "Malformed tar archive: truncated header");
    CHECK_THROWS_AS(readTarFiles(good + std::string(100, 'x')), std::runtime_error);
  }
  SECTION("data shorter than the size says") {
    CHECK_THROWS_WITH(readTarFiles(header({.name = "f", .size = 4096}) + padded("short")),
                      "Malformed tar archive: truncated entry data");
  }
  SECTION("non-octal size") {
    CHECK_THROWS_WITH(readTarFiles(header({.name = "f", .rawSize = "0000000009x"}) + kEnd),
                      "Malformed tar archive: bad octal number in header");
  }
  SECTION("bad pax records") {
    for (const std::string& pax : {std::string("abc"), std::string("99 path=x\n"), std::string("9 path=x!"),
                                   std::string("12 pathname\n"), std::string("3 x")}) {
      INFO("pax: " << pax);
      CHECK_THROWS_AS(readTarFiles(entry({.name = "p", .type = 'x'}, pax) + good + kEnd), std::runtime_error);
    }
  }
  SECTION("random garbage") {
    CHECK_THROWS_AS(readTarFiles(std::string(512, 'x')), std::runtime_error);
  }
}

TEST_CASE("tar reader: reads what the writer wrote, whatever the content", "[tar]") {
  TarWriter w;
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  // A content that looks like a tar header must not confuse the reader.
  const std::string fake = header({.name = "fake"});
  w.addFile("bytes", all);
  w.addFile("fake.tar", fake + kEnd);
  w.addFile("zeros", std::string(2048, '\0'));
  CHECK(readTarFiles(w.finish()) ==
        Files{{"bytes", all}, {"fake.tar", fake + kEnd}, {"zeros", std::string(2048, '\0')}});
}
