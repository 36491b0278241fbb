// The isol8 commands. Each takes the arguments after its name and returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace isol8::cli {

struct GlobalOptions {
  bool debug = false;
};

int runCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int setupCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int configCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int cleanupCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int buildCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int listCustomCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int serveCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int loginCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int logoutCommand(const std::vector<std::string>& args, const GlobalOptions& global);
int sessionCommand(const std::vector<std::string>& args, const GlobalOptions& global);

}  // namespace isol8::cli
