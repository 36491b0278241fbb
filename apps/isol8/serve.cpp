// isol8 serve: starts the installed isol8-server with the given flags (nothing is downloaded;
// decisions.md). The server replaces this process, so signals and the exit code are its own.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Next to this isol8 binary first: an installation puts both in one bin/ folder; in the
// build tree they are build/<preset>/apps/isol8/isol8 and build/<preset>/apps/isol8-server/
// isol8-server, hence ../isol8-server/. Then $PATH. `searched` collects the places tried.
std::optional<fs::path> findServer(std::vector<std::string>& searched) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / "isol8-server",
                                  self.parent_path().parent_path() / "isol8-server" / "isol8-server"}) {
      searched.push_back(candidate.string());
      if (executable(candidate)) return candidate;
    }
  }
  searched.emplace_back("$PATH");
  if (const char* path = std::getenv("PATH")) {
    std::string_view dirs = path;
    while (!dirs.empty()) {
      const auto colon = dirs.find(':');
      const auto dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
      if (dir.empty()) continue;
      const fs::path candidate = fs::path(dir) / "isol8-server";
      if (executable(candidate)) return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace

int serveCommand(const std::vector<std::string>& args, const GlobalOptions& global) {
  po::options_description desc("isol8 serve");
  // clang-format off
  desc.add_options()
    ("port,p", po::value<std::string>(), "port (default: ISOL8_PORT, PORT, else 3000)")
    ("key,k", po::value<std::string>(), "master API key (else ISOL8_API_KEY)")
    ("auth-db", po::value<std::string>(), "database-backed API keys: SQLite file or postgres:// URL")
    ("bind", po::value<std::string>(), "address to listen on")
    ("debug", po::bool_switch(), "debug logging")
    ("help,h", po::bool_switch(), "show this help");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm["help"].as<bool>()) {
    fmt::print("Usage: isol8 serve [-p <port>] [-k <key>] [--auth-db <conn>] [--bind <addr>] [--debug]\n");
    return 0;
  }
  std::string key = vm.count("key") ? vm["key"].as<std::string>() : "";
  if (const char* env = std::getenv("ISOL8_API_KEY"); key.empty() && env) key = env;
  if (key.empty()) {
    printError("API key required. Use --key or ISOL8_API_KEY env var.");
    return 1;
  }
  std::vector<std::string> searched;
  const auto server = findServer(searched);
  if (!server) {
    std::string places;
    for (const auto& place : searched) places += (places.empty() ? "" : ", ") + place;
    printError(fmt::format("isol8-server not found (looked in {}). Install it next to isol8 or on the PATH.", places));
    return 1;
  }
  std::vector<std::string> argv{server->string()};
  if (vm.count("port")) argv.insert(argv.end(), {"--port", vm["port"].as<std::string>()});
  if (vm.count("auth-db")) argv.insert(argv.end(), {"--auth-db", vm["auth-db"].as<std::string>()});
  if (vm.count("bind")) argv.insert(argv.end(), {"--bind", vm["bind"].as<std::string>()});
  if (vm["debug"].as<bool>() || global.debug) argv.emplace_back("--debug");
  // The key travels in the environment, not in argv, where every local user could read it (ps).
  ::setenv("ISOL8_API_KEY", key.c_str(), 1);
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  printError(fmt::format("Cannot start {}: {}", argv[0], std::strerror(errno)));
  return 1;
}

}  // namespace isol8::cli
