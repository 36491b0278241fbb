// Runs a host program (debootstrap, npm) and waits for it.
#pragma once

#include <string>
#include <vector>

namespace isol8::detail {

struct HostProcessResult {
  int exitCode = -1;        // 127 when the program could not be started
  std::string stdoutText;   // captured only when asked for
};

// argv[0] is looked up in PATH. stderr is inherited (the user sees its progress); stdout is
// captured when `captureStdout`, else inherited too.
HostProcessResult runHostProcess(const std::vector<std::string>& argv, bool captureStdout);

// True when `program` is found in PATH.
bool hostProgramExists(const std::string& program);

}  // namespace isol8::detail
