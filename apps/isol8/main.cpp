// isol8: global options, then one command per file (run.cpp, setup.cpp, ...).
#include <cstdio>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "isol8/version.hpp"
#include "output.hpp"

namespace po = boost::program_options;

namespace {

constexpr const char* kHelp = R"(Usage: isol8 [options] [command]

Secure code execution engine

Options:
  -V, --version     output the version number
  --debug           print diagnostic [DEBUG] lines on stderr
  -h, --help        display help for command

Commands:
  run [file]        run code in a hardened container (-e code, a file, --cmd, or stdin;
                    --host <url> [--key <key>] [--session-id <id>]: on an isol8 server)
  setup [--force]   build the runtime images isol8:python, :node, :bun, :deno, :bash
  config [--json]   show the configuration in effect (isol8.config.json or ~/.isol8/config.json)
  cleanup [--force] [--images]
                    remove isol8's containers (and with --images its images)
  build             build a custom image: --base <runtime> --tag <name> [--install <pkg>]... [--setup <cmd|file>]... [--force]
  list-custom       list the custom images (labelled org.isol8.runtime)
  serve             start the isol8 server: [-p <port>] [-k <key>] [--auth-db <conn>] [--bind <addr>] [--debug]
  login             get an API key from a server: --host <url> --key <master key> [--name <n>] [--ttl <ms>]
  logout            forget the key `login` stored (~/.isol8/credentials.json)
  session list|stop list a server's sessions, or stop one: --host <url> [--key <key>] [--json] | stop <id>
  help              display this help
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  isol8::cli::GlobalOptions global;
  // Global options come before the command name.
  std::size_t i = 0;
  for (; i < args.size() && args[i].starts_with('-'); ++i) {
    const auto& a = args[i];
    if (a == "-V" || a == "--version") {
      fmt::print("{}\n", isol8::version());
      return 0;
    }
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kHelp);
      return 0;
    }
    if (a == "--debug") {
      global.debug = true;
      continue;
    }
    fmt::print(stderr, "error: unknown option '{}'\n", a);
    return 1;
  }
  if (i == args.size()) {
    fmt::print("{}", kHelp);
    return 0;
  }
  const std::string command = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
  try {
    if (command == "run") return isol8::cli::runCommand(rest, global);
    if (command == "setup") return isol8::cli::setupCommand(rest, global);
    if (command == "config") return isol8::cli::configCommand(rest, global);
    if (command == "cleanup") return isol8::cli::cleanupCommand(rest, global);
    if (command == "build") return isol8::cli::buildCommand(rest, global);
    if (command == "list-custom") return isol8::cli::listCustomCommand(rest, global);
    if (command == "serve") return isol8::cli::serveCommand(rest, global);
    if (command == "login") return isol8::cli::loginCommand(rest, global);
    if (command == "logout") return isol8::cli::logoutCommand(rest, global);
    if (command == "session") return isol8::cli::sessionCommand(rest, global);
    if (command == "help") {
      fmt::print("{}", kHelp);
      return 0;
    }
  } catch (const po::unknown_option& e) {
    fmt::print(stderr, "error: unknown option '{}'\n", e.get_option_name());
    return 1;
  } catch (const po::error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "error: unknown command '{}'\n", command);
  return 1;
}
