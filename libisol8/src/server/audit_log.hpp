// The audit log (config `audit`, the original's record format): one JSON line per execution
// (buffered and streamed alike) in <logDir>/executions.log, or `AUDIT_LOG: <json>` on stdout.
// Records who ran what (userId from request.metadata, the caller's tenant, the code's
// SHA-256), where (containerId), how it ended, and the run's security events. Code and output
// only with includeCode / includeOutput.
#pragma once

#include <string>

#include "isol8/config.hpp"
#include "isol8/types.hpp"
#include "server/http_types.hpp"

namespace isol8::server {

class AuditLog {
 public:
  // Creates the directory and drops *.log / *.jsonl files older than retentionDays.
  explicit AuditLog(AuditConfig config);
  void record(const Caller& caller, const ExecutionRequest& request, const ExecutionResult& result,
              const std::string& startedAt);

 private:
  AuditConfig config_;
  std::string path_;  // <logDir>/executions.log (filesystem destination)
};

}  // namespace isol8::server
