#include "server/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "json/wire.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// The log records who ran what: only the server's user may read it. Directories it creates
// are 0700 whatever the umask (existing ones are left as they are); the file is 0600.
void createPrivateDirectories(const fs::path& dir) {
  fs::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) == 0) ::chmod(partial.c_str(), 0700);  // the umask may have taken bits
  }
}

}  // namespace

AuditLog::AuditLog(AuditConfig config) : config_(std::move(config)) {
  if (!config_.enabled || config_.destination == "stdout") return;
  const char* env = std::getenv("ISOL8_AUDIT_DIR");
  const fs::path dir = config_.logDir ? fs::path(*config_.logDir) : env && *env ? fs::path(env) : fs::path(".isol8_audit");
  std::error_code ec;
  createPrivateDirectories(dir);
  path_ = (dir / "executions.log").string();
  ::chmod(path_.c_str(), 0600);  // a log an older server left readable
  if (config_.retentionDays <= 0) return;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24 * config_.retentionDays);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if ((ext == ".log" || ext == ".jsonl") && entry.last_write_time(ec) < cutoff) fs::remove(entry.path(), ec);
  }
}

void AuditLog::record(const Caller& caller, const ExecutionRequest& request, const ExecutionResult& result,
                      const std::string& startedAt) {
  if (!config_.enabled) return;
  json::object line;
  line["executionId"] = result.executionId;
  const auto user = request.metadata.find("userId");
  line["userId"] = user == request.metadata.end() ? "" : user->second;
  line["tenantId"] = caller.master ? "master" : caller.tenantId;
  line["timestamp"] = startedAt;
  line["runtime"] = request.runtime;
  const std::string& code = !request.code.empty() ? request.code : !request.cmd.empty() ? request.cmd : request.codeUrl;
  line["codeHash"] = detail::sha256Hex(code);
  line["containerId"] = result.containerId;
  line["exitCode"] = result.exitCode;
  line["durationMs"] = result.durationMs;
  line["resourceUsage"] = wire::toJson(result.resourceUsage);
  if (!result.securityEvents.empty()) {
    json::array events;
    for (const auto& event : result.securityEvents) events.push_back(wire::toJson(event));
    line["securityEvents"] = std::move(events);
  }
  if (!request.metadata.empty()) {
    json::object metadata;
    for (const auto& [key, value] : request.metadata) metadata[key] = value;
    line["metadata"] = std::move(metadata);
  }
  if (config_.includeCode) line["code"] = code;
  if (config_.includeOutput) {
    line["stdout"] = detail::toValidUtf8(result.stdoutText);
    line["stderr"] = detail::toValidUtf8(result.stderrText);
  }
  const std::string text = json::serialize(line);
  if (config_.destination == "stdout") {
    fmt::print("AUDIT_LOG: {}\n", text);
    std::fflush(stdout);
    return;
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fmt::print(stderr, "[WARN] cannot write the audit log {}: {}\n", path_, std::strerror(errno));
    return;
  }
  const std::string record = text + '\n';
  // One write per record: O_APPEND keeps records whole even with another writer.
  if (::write(fd, record.data(), record.size()) < 0)
    fmt::print(stderr, "[WARN] cannot write the audit log {}: {}\n", path_, std::strerror(errno));
  ::close(fd);
}

}  // namespace isol8::server
