#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "sandbox_user.hpp"

namespace isol8::supervisor {

namespace {

// Absolute, no "." or ".." component, no empty component, inside /sandbox or /tmp.
bool acceptablePath(const std::string& path) {
  if (!(path.starts_with("/sandbox/") || path.starts_with("/tmp/"))) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// close() that leaves errno as the failure before it set it, for the message that follows.
void closeKeepingErrno(int fd) {
  const int saved = errno;
  close(fd);
  errno = saved;
}

int writeAsSandboxUser(const FilesRequest& request, int answerFd) {
  for (const auto& [path, content, append] : request.files) {
    auto fail = [&, p = path](const char* what) {
      const std::string message = p + ": " + what + ": " + std::strerror(errno);
      writeAll(answerFd, message.data(), message.size());
      return 1;
    };
    if (!acceptablePath(path)) {
      errno = EINVAL;
      return fail("not a path inside /sandbox or /tmp");
    }
    std::string leaf;
    const int parent = openParentDirectory(path, true, leaf);
    if (parent < 0) return fail("cannot create or open its directory");
    const int fd = openat(parent, leaf.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_NOFOLLOW | O_CLOEXEC,
                          0644);
    closeKeepingErrno(parent);
    if (fd < 0) return fail("cannot open");
    const bool ok = writeAll(fd, content.data(), content.size());
    if (close(fd) != 0 || !ok) return fail("cannot write");
  }
  return 0;
}

// Per path: u8 status, u64 size, then the bytes (content, or the reason for status error).
int readAsSandboxUser(const ReadRequest& request, int answerFd) {
  auto send = [&](FileStatus status, std::string_view data) {
    char header[9];
    header[0] = static_cast<char>(status);
    const std::uint64_t size = data.size();
    std::memcpy(header + 1, &size, 8);
    return writeAll(answerFd, header, 9) && writeAll(answerFd, data.data(), data.size());
  };
  std::uint64_t budget = request.maxBytes;  // for all the files together
  for (const auto& path : request.paths) {
    if (!acceptablePath(path)) {
      send(FileStatus::error, "not a path inside /sandbox or /tmp");
      continue;
    }
    // O_NONBLOCK: a FIFO planted at the path must not hang us; O_NOFOLLOW and the walk: no
    // symlink anywhere on the path.
    std::string leaf;
    const int parent = openParentDirectory(path, false, leaf);
    const int fd = parent < 0 ? -1 : openat(parent, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (parent >= 0) closeKeepingErrno(parent);
    if (fd < 0) {
      // ELOOP: the file is a symlink; ENOTDIR: so is (or is a file) a directory on the way.
      send(errno == ENOENT                      ? FileStatus::missing
           : errno == ELOOP || errno == ENOTDIR ? FileStatus::not_regular
                                                : FileStatus::error,
           std::strerror(errno));
      continue;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      send(FileStatus::not_regular, "not a regular file");
      continue;
    }
    if (static_cast<std::uint64_t>(st.st_size) > budget) {
      close(fd);
      send(FileStatus::too_large, std::to_string(st.st_size));
      continue;
    }
    // The size can change under us: read at most budget + 1 and judge by what we got.
    std::string content;
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      content.append(buffer, static_cast<std::size_t>(n));
      if (content.size() > budget) break;
    }
    close(fd);
    if (content.size() > budget) {
      send(FileStatus::too_large, std::to_string(content.size()));
    } else {
      budget -= content.size();
      send(FileStatus::ok, content);
    }
  }
  return 0;
}

}  // namespace

int openParentDirectory(const std::string& path, bool create, std::string& leaf) {
  int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::size_t start = 1;
  for (std::size_t slash = path.find('/', start); slash != std::string::npos && dir >= 0;
       slash = path.find('/', start)) {
    const std::string part = path.substr(start, slash - start);
    if (create && mkdirat(dir, part.c_str(), 0755) != 0 && errno != EEXIST) {
      closeKeepingErrno(dir);
      return -1;
    }
    const int next = openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    closeKeepingErrno(dir);
    dir = next;
    start = slash + 1;
  }
  leaf = path.substr(start);
  return dir;
}

std::string writeFiles(const FilesRequest& request, std::chrono::steady_clock::time_point deadline) {
  const auto answer =
      collectAsSandboxUser([&request](int fd) { return writeAsSandboxUser(request, fd); }, 64 * 1024, deadline);
  if (answer.finished && answer.exitCode == 0) return {};
  if (!answer.answer.empty()) return answer.answer;
  return answer.finished ? "writing files failed (exit " + std::to_string(answer.exitCode) + ")"
                         : "writing files did not finish in time";
}

void readFiles(const ReadRequest& request, const std::function<void(const FileReport&)>& report,
               std::chrono::steady_clock::time_point deadline) {
  // The helper's answer, parsed as it streams: per path a 9-byte header, then the bytes,
  // passed on in pieces of at most kPiece. Only the paths asked for, in order, at most
  // maxBytes of content in all: whatever the helper says beyond that ends the read.
  constexpr std::size_t kPiece = 1024 * 1024;
  std::size_t index = 0;
  std::string header;
  FileStatus status = FileStatus::ok;
  std::uint64_t remaining = 0;
  std::uint64_t budget = request.maxBytes;
  bool inContent = false;
  FileReport piece;
  auto finishFile = [&] {
    piece.status = status;
    piece.more = false;
    report(piece);
    piece.content.clear();
    inContent = false;
    header.clear();
    ++index;
  };
  const auto heard = runAsSandboxUser(
      [&request](int fd) { return readAsSandboxUser(request, fd); },
      [&](std::string_view data) {
        while (!data.empty()) {
          if (index >= request.paths.size()) return false;  // more than was asked
          if (!inContent) {
            const std::size_t take = std::min<std::size_t>(9 - header.size(), data.size());
            header.append(data.substr(0, take));
            data.remove_prefix(take);
            if (header.size() < 9) return true;
            const auto code = static_cast<std::uint8_t>(header[0]);
            std::memcpy(&remaining, header.data() + 1, 8);
            if (code > static_cast<std::uint8_t>(FileStatus::error)) return false;
            status = static_cast<FileStatus>(code);
            const std::uint64_t bound = status == FileStatus::ok ? budget : 4096;
            if (remaining > bound) return false;
            if (status == FileStatus::ok) budget -= remaining;
            inContent = true;
            if (remaining == 0) finishFile();
            continue;
          }
          const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, data.size()));
          piece.content.append(data.substr(0, take));
          data.remove_prefix(take);
          remaining -= take;
          if (remaining == 0) {
            finishFile();
          } else if (piece.content.size() >= kPiece) {
            piece.status = status;
            piece.more = true;
            report(piece);
            piece.content.clear();
          }
        }
        return true;
      },
      deadline);
  // Paths the helper never answered (it died, ran out of time or said something else).
  while (index < request.paths.size()) {
    status = FileStatus::error;
    piece.content = heard.finished ? "no answer for this file" : "reading files did not finish in time";
    finishFile();
  }
}

}  // namespace isol8::supervisor
