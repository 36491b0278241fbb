// The private channel between the engine and the supervisor inside each container (the
// container's attached stdin/stdout). Shared by both sides; no Boost, no fmt: the supervisor
// is a small static program.
//
// A frame is: u32 size (of what follows, little endian), u8 type, u32 id, then the body, made of
// u8/u32/u64 numbers and strings (u32 length + bytes). `id` names the operation a frame belongs
// to; the engine chooses it. Every decode is bounded: a frame larger than kMaxFrame, a length
// that runs past the frame, or a list longer than its limit is an error, never an allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::supervisor {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxFrame = 2 * 1024 * 1024;  // body bytes, header excluded
inline constexpr std::size_t kMaxChunk = 64 * 1024;        // output/stdin data per frame
inline constexpr std::size_t kMaxScript = 1024 * 1024;     // a script sent in its run frame
inline constexpr std::size_t kMaxList = 4096;              // argv, env, paths per frame

// Where the engine mounts the supervisor and what it passes to runs.
inline constexpr const char* kSupervisorDir = "/opt/isol8";
inline constexpr const char* kSupervisorPath = "/opt/isol8/supervisor";
inline constexpr std::uint32_t kSandboxUid = 100;
inline constexpr std::uint32_t kSandboxGid = 101;

enum class Type : std::uint8_t {
  // engine → supervisor
  run = 1,         // start a step: RunRequest
  stdin_data = 2,  // bytes for a running step's stdin; empty = end of input
  cancel = 3,      // end a step now (its processes and every other sandbox process killed)
  write_files = 4, // FilesRequest: write files as the sandbox user
  read_files = 5,  // ReadRequest: read files as the sandbox user, bounded
  reset = 6,       // ResetRequest: end a request (kill everything, clean), answered by `done`
  // supervisor → engine
  ready = 10,      // once, at start: version
  output = 11,     // a step's stdout/stderr bytes as produced
  exit = 12,       // a step ended: ExitReport
  done = 13,       // a file operation or reset ended: ok + message
  file = 14,       // one file of a read_files, in the order asked: FileReport
};

enum class OutputStream : std::uint8_t { stdout_stream = 1, stderr_stream = 2 };

struct RunRequest {
  std::uint32_t timeoutMs = 30000;  // the supervisor's own deadline for this step
  std::uint64_t outputLimit = 0;    // bytes forwarded per stream (0: unlimited); the rest is drained
  bool stdinOpen = false;           // stdin_data frames follow; otherwise stdin is /dev/null
  std::string cwd = "/sandbox";     // created (as the sandbox user) when missing
  std::vector<std::string> argv;    // argv[0] looked up in the PATH of `env` (or the container's)
  std::vector<std::string> env;     // NAME=value, on top of the container's environment
  // When set: written (as the sandbox user, through no symlink) right before the exec, so a
  // program run from a file needs no separate round trip to write it.
  std::string scriptPath;
  std::string script;
};

struct ExitReport {
  std::int32_t exitCode = 0;  // 128 + signal when killed
  bool timedOut = false;
  bool cancelled = false;
  std::uint64_t droppedStdout = 0;  // bytes not forwarded because of outputLimit
  std::uint64_t droppedStderr = 0;
  std::uint64_t durationUs = 0;
  std::uint64_t cpuUserUs = 0;
  std::uint64_t cpuSystemUs = 0;
  std::uint64_t peakRssKb = 0;
  std::uint64_t oomKills = 0;  // the memory cgroup's oom_kill count grew by this during the step
};

// Files larger than a frame go in several pieces: the first creates (or truncates), the rest
// append.
struct FilePiece {
  std::string path;  // absolute, inside /sandbox or /tmp
  std::string content;
  bool append = false;
};
struct FilesRequest {
  std::vector<FilePiece> files;
};

struct ReadRequest {
  std::uint64_t maxBytes = 0;  // for the files' contents together
  std::vector<std::string> paths;
};

enum class FileStatus : std::uint8_t { ok = 0, missing = 1, not_regular = 2, too_large = 3, error = 4 };

// A file comes back in one or more reports: `more` ones carry a piece of its content, the last
// one (more = false) the rest, or a status other than ok.
struct FileReport {
  FileStatus status = FileStatus::ok;
  std::string content;  // status ok: the bytes; error: the reason
  bool more = false;
};

// reset: what to clean once every process but the supervisor is gone.
enum class ResetScope : std::uint8_t {
  processes = 0,  // kill every process; remove SysV IPC, POSIX queues, /dev/shm (sessions keep files)
  everything = 1, // and empty /sandbox, /tmp and every other place the sandbox user can write
};

struct Done {
  bool ok = true;
  std::string message;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- encoding -----------------------------------------------------------------------------

class Writer {
 public:
  Writer(Type type, std::uint32_t id);
  Writer& u8(std::uint8_t v);
  Writer& u32(std::uint32_t v);
  Writer& u64(std::uint64_t v);
  Writer& str(std::string_view s);
  Writer& list(const std::vector<std::string>& items);
  // The finished frame, size prefix included.
  std::string finish();

 private:
  std::string bytes_;
};

std::string encode(std::uint32_t id, const RunRequest& r);
std::string encode(std::uint32_t id, const ExitReport& r);
std::string encode(std::uint32_t id, const FilesRequest& r);
std::string encode(std::uint32_t id, const ReadRequest& r);
std::string encode(std::uint32_t id, const FileReport& r);
std::string encode(std::uint32_t id, const Done& r);
std::string encodeReset(std::uint32_t id, ResetScope scope);
std::string encodeData(Type type, std::uint32_t id, std::string_view data);         // stdin_data
std::string encodeOutput(std::uint32_t id, OutputStream stream, std::string_view data);
std::string encodeSimple(Type type, std::uint32_t id);                               // cancel
std::string encodeReady(std::uint32_t version);

// ---- decoding -----------------------------------------------------------------------------

struct Frame {
  Type type{};
  std::uint32_t id = 0;
  std::string body;
};

// Bounded reader over a frame's body; every read past the end throws ProtocolError.
class Reader {
 public:
  explicit Reader(std::string_view body) : rest_(body) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string str();
  std::vector<std::string> list();
  void end() const;  // throws when bytes are left over

 private:
  std::string_view take(std::size_t n);
  std::string_view rest_;
};

RunRequest decodeRun(std::string_view body);
ExitReport decodeExit(std::string_view body);
FilesRequest decodeFiles(std::string_view body);
ReadRequest decodeRead(std::string_view body);
FileReport decodeFile(std::string_view body);
Done decodeDone(std::string_view body);
ResetScope decodeReset(std::string_view body);
OutputStream decodeOutput(std::string_view body, std::string& data);
std::string decodeData(std::string_view body);
std::uint32_t decodeReady(std::string_view body);

// Splits a byte stream into frames, in any split. feed() throws ProtocolError on a frame
// larger than kMaxFrame or an unknown type; next() pops complete frames.
class FrameSplitter {
 public:
  void feed(std::string_view bytes);
  std::optional<Frame> next();
  bool midFrame() const { return !buffer_.empty(); }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
};

}  // namespace isol8::supervisor
