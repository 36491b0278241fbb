#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

bool makeParents(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
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
    if (!makeParents(path)) return fail("cannot create its directory");
    const int fd =
        open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_NOFOLLOW | O_CLOEXEC, 0644);
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
  for (const auto& path : request.paths) {
    if (!acceptablePath(path)) {
      send(FileStatus::error, "not a path inside /sandbox or /tmp");
      continue;
    }
    // O_NONBLOCK: a FIFO planted at the path must not hang us; O_NOFOLLOW: no symlink.
    const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      send(errno == ENOENT ? FileStatus::missing : errno == ELOOP ? FileStatus::not_regular : FileStatus::error,
           std::strerror(errno));
      continue;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      send(FileStatus::not_regular, "not a regular file");
      continue;
    }
    if (static_cast<std::uint64_t>(st.st_size) > request.maxBytes) {
      close(fd);
      send(FileStatus::too_large, std::to_string(st.st_size));
      continue;
    }
    // The size can change under us: read at most maxBytes + 1 and judge by what we got.
    std::string content;
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      content.append(buffer, static_cast<std::size_t>(n));
      if (content.size() > request.maxBytes) break;
    }
    close(fd);
    if (content.size() > request.maxBytes) {
      send(FileStatus::too_large, std::to_string(content.size()));
    } else {
      send(FileStatus::ok, content);
    }
  }
  return 0;
}

}  // namespace

std::string writeFiles(const FilesRequest& request, std::chrono::steady_clock::time_point deadline) {
  const auto answer =
      runAsSandboxUser([&request](int fd) { return writeAsSandboxUser(request, fd); }, 64 * 1024, deadline);
  if (answer.finished && answer.exitCode == 0) return {};
  if (!answer.answer.empty()) return answer.answer;
  return answer.finished ? "writing files failed (exit " + std::to_string(answer.exitCode) + ")"
                         : "writing files did not finish in time";
}

std::vector<FileReport> readFiles(const ReadRequest& request, std::chrono::steady_clock::time_point deadline) {
  // Each file's answer is at most maxBytes plus its header, or a short reason.
  const std::size_t limit = request.paths.size() * (request.maxBytes + 9 + 256);
  const auto answer = runAsSandboxUser([&request](int fd) { return readAsSandboxUser(request, fd); }, limit, deadline);
  std::vector<FileReport> reports;
  std::string_view rest = answer.answer;
  for (std::size_t i = 0; i < request.paths.size(); ++i) {
    FileReport report;
    std::uint64_t size = 0;
    if (rest.size() >= 9) std::memcpy(&size, rest.data() + 1, 8);
    const bool whole = rest.size() >= 9 && size <= rest.size() - 9 &&
                       static_cast<std::uint8_t>(rest[0]) <= static_cast<std::uint8_t>(FileStatus::error);
    if (!whole) {
      report.status = FileStatus::error;
      report.content = answer.finished ? "no answer for this file" : "reading files did not finish in time";
    } else {
      report.status = static_cast<FileStatus>(rest[0]);
      report.content = std::string(rest.substr(9, size));
      rest.remove_prefix(9 + size);
      if (report.status == FileStatus::ok && report.content.size() > request.maxBytes) {
        report.status = FileStatus::too_large;  // never trust the child's size for the bound
        report.content = std::to_string(report.content.size());
      }
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace isol8::supervisor
