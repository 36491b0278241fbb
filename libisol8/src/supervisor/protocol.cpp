#include "supervisor/protocol.hpp"

#include <cstring>

namespace isol8::supervisor {

namespace {

bool knownType(std::uint8_t t) { return (t >= 1 && t <= 6) || (t >= 10 && t <= 14); }

void putLe(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t getLe(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

}  // namespace

Writer::Writer(Type type, std::uint32_t id) {
  bytes_.assign(4, '\0');  // size, filled in by finish()
  u8(static_cast<std::uint8_t>(type));
  u32(id);
}
Writer& Writer::u8(std::uint8_t v) { return putLe(bytes_, v, 1), *this; }
Writer& Writer::u32(std::uint32_t v) { return putLe(bytes_, v, 4), *this; }
Writer& Writer::u64(std::uint64_t v) { return putLe(bytes_, v, 8), *this; }
Writer& Writer::str(std::string_view s) {
  u32(static_cast<std::uint32_t>(s.size()));
  bytes_.append(s);
  return *this;
}
Writer& Writer::list(const std::vector<std::string>& items) {
  u32(static_cast<std::uint32_t>(items.size()));
  for (const auto& s : items) str(s);
  return *this;
}
std::string Writer::finish() {
  const std::uint64_t size = bytes_.size() - 4;
  if (size - 5 > kMaxFrame) throw ProtocolError("frame too large");
  for (int i = 0; i < 4; ++i) bytes_[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return std::move(bytes_);
}

std::string encode(std::uint32_t id, const RunRequest& r) {
  return Writer(Type::run, id)
      .u32(r.timeoutMs)
      .u64(r.outputLimit)
      .u8(r.stdinOpen ? 1 : 0)
      .str(r.cwd)
      .list(r.argv)
      .list(r.env)
      .str(r.scriptPath)
      .str(r.script)
      .finish();
}

std::string encode(std::uint32_t id, const ExitReport& r) {
  const std::uint8_t flags = (r.timedOut ? 1 : 0) | (r.cancelled ? 2 : 0);
  return Writer(Type::exit, id)
      .u32(static_cast<std::uint32_t>(r.exitCode))
      .u8(flags)
      .u64(r.durationUs)
      .u64(r.cpuUserUs)
      .u64(r.cpuSystemUs)
      .u64(r.peakRssKb)
      .u64(r.oomKills)
      .u64(r.droppedStdout)
      .u64(r.droppedStderr)
      .finish();
}

std::string encode(std::uint32_t id, const FilesRequest& r) {
  Writer w(Type::write_files, id);
  w.u32(static_cast<std::uint32_t>(r.files.size()));
  for (const auto& piece : r.files) w.str(piece.path).str(piece.content).u8(piece.append ? 1 : 0);
  return w.finish();
}

std::string encode(std::uint32_t id, const ReadRequest& r) {
  return Writer(Type::read_files, id).u64(r.maxBytes).list(r.paths).finish();
}

std::string encode(std::uint32_t id, const FileReport& r) {
  return Writer(Type::file, id).u8(static_cast<std::uint8_t>(r.status)).str(r.content).u8(r.more ? 1 : 0).finish();
}

std::string encode(std::uint32_t id, const Done& r) {
  return Writer(Type::done, id).u8(r.ok ? 1 : 0).str(r.message).finish();
}

std::string encodeReset(std::uint32_t id, ResetScope scope) {
  return Writer(Type::reset, id).u8(static_cast<std::uint8_t>(scope)).finish();
}

std::string encodeData(Type type, std::uint32_t id, std::string_view data) {
  return Writer(type, id).str(data).finish();
}

std::string encodeOutput(std::uint32_t id, OutputStream stream, std::string_view data) {
  return Writer(Type::output, id).u8(static_cast<std::uint8_t>(stream)).str(data).finish();
}

std::string encodeSimple(Type type, std::uint32_t id) { return Writer(type, id).finish(); }

std::string encodeReady(std::uint32_t version) { return Writer(Type::ready, 0).u32(version).finish(); }

// ---- decoding -----------------------------------------------------------------------------

std::string_view Reader::take(std::size_t n) {
  if (n > rest_.size()) throw ProtocolError("truncated frame");
  auto out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return out;
}
std::uint8_t Reader::u8() { return static_cast<std::uint8_t>(getLe(take(1), 1)); }
std::uint32_t Reader::u32() { return static_cast<std::uint32_t>(getLe(take(4), 4)); }
std::uint64_t Reader::u64() { return getLe(take(8), 8); }
std::string Reader::str() {
  const std::uint32_t n = u32();
  return std::string(take(n));
}
std::vector<std::string> Reader::list() {
  const std::uint32_t n = u32();
  if (n > kMaxList) throw ProtocolError("list too long");
  // Each item needs at least its 4-byte length: a count beyond that is a lie.
  if (static_cast<std::uint64_t>(n) * 4 > rest_.size()) throw ProtocolError("truncated frame");
  std::vector<std::string> items;
  items.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) items.push_back(str());
  return items;
}
void Reader::end() const {
  if (!rest_.empty()) throw ProtocolError("trailing bytes in frame");
}

RunRequest decodeRun(std::string_view body) {
  Reader r(body);
  RunRequest run;
  run.timeoutMs = r.u32();
  run.outputLimit = r.u64();
  run.stdinOpen = r.u8() != 0;
  run.cwd = r.str();
  run.argv = r.list();
  run.env = r.list();
  run.scriptPath = r.str();
  run.script = r.str();
  r.end();
  if (run.argv.empty()) throw ProtocolError("run without argv");
  if (run.scriptPath.empty() && !run.script.empty()) throw ProtocolError("run with a script but no path for it");
  return run;
}

ExitReport decodeExit(std::string_view body) {
  Reader r(body);
  ExitReport e;
  e.exitCode = static_cast<std::int32_t>(r.u32());
  const std::uint8_t flags = r.u8();
  e.timedOut = flags & 1;
  e.cancelled = flags & 2;
  e.durationUs = r.u64();
  e.cpuUserUs = r.u64();
  e.cpuSystemUs = r.u64();
  e.peakRssKb = r.u64();
  e.oomKills = r.u64();
  e.droppedStdout = r.u64();
  e.droppedStderr = r.u64();
  r.end();
  return e;
}

FilesRequest decodeFiles(std::string_view body) {
  Reader r(body);
  FilesRequest req;
  const std::uint32_t n = r.u32();
  if (n > kMaxList) throw ProtocolError("list too long");
  for (std::uint32_t i = 0; i < n; ++i) {
    FilePiece piece;
    piece.path = r.str();
    piece.content = r.str();
    piece.append = r.u8() != 0;
    req.files.push_back(std::move(piece));
  }
  r.end();
  return req;
}

ReadRequest decodeRead(std::string_view body) {
  Reader r(body);
  ReadRequest req;
  req.maxBytes = r.u64();
  req.paths = r.list();
  r.end();
  return req;
}

FileReport decodeFile(std::string_view body) {
  Reader r(body);
  FileReport f;
  const std::uint8_t status = r.u8();
  if (status > static_cast<std::uint8_t>(FileStatus::error)) throw ProtocolError("unknown file status");
  f.status = static_cast<FileStatus>(status);
  f.content = r.str();
  f.more = r.u8() != 0;
  r.end();
  return f;
}

Done decodeDone(std::string_view body) {
  Reader r(body);
  Done d;
  d.ok = r.u8() != 0;
  d.message = r.str();
  r.end();
  return d;
}

ResetScope decodeReset(std::string_view body) {
  Reader r(body);
  const std::uint8_t scope = r.u8();
  r.end();
  if (scope > static_cast<std::uint8_t>(ResetScope::everything)) throw ProtocolError("unknown reset scope");
  return static_cast<ResetScope>(scope);
}

OutputStream decodeOutput(std::string_view body, std::string& data) {
  Reader r(body);
  const std::uint8_t stream = r.u8();
  if (stream != 1 && stream != 2) throw ProtocolError("unknown output stream");
  data = r.str();
  r.end();
  return static_cast<OutputStream>(stream);
}

std::string decodeData(std::string_view body) {
  Reader r(body);
  auto data = r.str();
  r.end();
  return data;
}

std::uint32_t decodeReady(std::string_view body) {
  Reader r(body);
  const auto version = r.u32();
  r.end();
  return version;
}

void FrameSplitter::feed(std::string_view bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
  // Check the pending header at once: a lying size must not make us buffer 4 GiB.
  if (buffer_.size() - offset_ >= 5) {
    const std::uint64_t size = getLe(std::string_view(buffer_).substr(offset_, 4), 4);
    if (size < 5 || size - 5 > kMaxFrame) throw ProtocolError("frame size out of bounds");
    if (!knownType(static_cast<std::uint8_t>(buffer_[offset_ + 4]))) throw ProtocolError("unknown frame type");
  }
}

std::optional<Frame> FrameSplitter::next() {
  const std::string_view pending = std::string_view(buffer_).substr(offset_);
  if (pending.size() < 9) return std::nullopt;
  const std::uint64_t size = getLe(pending.substr(0, 4), 4);
  if (size < 5 || size - 5 > kMaxFrame) throw ProtocolError("frame size out of bounds");
  if (pending.size() < 4 + size) return std::nullopt;
  const auto type = static_cast<std::uint8_t>(pending[4]);
  if (!knownType(type)) throw ProtocolError("unknown frame type");
  Frame frame;
  frame.type = static_cast<Type>(type);
  frame.id = static_cast<std::uint32_t>(getLe(pending.substr(5, 4), 4));
  frame.body = std::string(pending.substr(9, size - 5));
  offset_ += 4 + size;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return frame;
}

}  // namespace isol8::supervisor
