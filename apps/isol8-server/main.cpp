// isol8-server: reads its flags (the original's, plus --bind and --config), then runs the
// library's server (libisol8/src/server/server.cpp).
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include "isol8/version.hpp"
#include "server/server.hpp"

namespace {

constexpr const char* kHelp = R"(Usage: isol8-server [options]

isol8 HTTP server: runs code in hardened containers for authenticated clients

Options:
  -p, --port <port>     port to listen on (default: $ISOL8_PORT, else $PORT, else 3000)
  -k, --key <key>       master API key (default: $ISOL8_API_KEY)
  --auth-db <conn>      database-backed API keys: a SQLite file path or a postgres:// URL
  --bind <address>      address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --config <file>       configuration file (default: ./isol8.config.json, else ~/.isol8/config.json)
  --debug               print [DEBUG] lines on stderr
  -V, --version         print the version
  -h, --help            print this help
)";

int fail(const std::string& message) {
  fmt::print(stderr, "[ERR] {}\n", message);
  return 1;
}

std::optional<int> parsePort(const std::string& text) {
  int port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fmt::print("{}", kHelp);
    return 0;
  }
  std::optional<std::string> port, key, configPath;
  isol8::server::ServerOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kHelp);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      fmt::print("{}\n", isol8::version());
      return 0;
    }
    if (a == "--debug") {
      options.debug = true;
      continue;
    }
    const bool takesValue = a == "-p" || a == "--port" || a == "-k" || a == "--key" || a == "--auth-db" ||
                            a == "--bind" || a == "--config";
    if (!takesValue || i + 1 >= args.size()) return fail("Unknown argument: " + a);
    const std::string& value = args[++i];
    if (a == "-p" || a == "--port") port = value;
    else if (a == "-k" || a == "--key") key = value;
    else if (a == "--auth-db") options.authDb = value;
    else if (a == "--bind") options.bindAddress = value;
    else configPath = value;
  }

  // Port: --port, then ISOL8_PORT, then PORT, then 3000.
  std::optional<std::pair<std::string, std::string>> portSource;
  if (port) portSource = {"--port", *port};
  else if (const char* v = std::getenv("ISOL8_PORT"); v && *v) portSource = {"ISOL8_PORT", v};
  else if (const char* v = std::getenv("PORT"); v && *v) portSource = {"PORT", v};
  if (portSource) {
    const auto parsed = parsePort(portSource->second);
    if (!parsed)
      return fail(fmt::format("Invalid port from {}: {}. Expected 1-65535.", portSource->first, portSource->second));
    options.port = *parsed;
  }

  if (!key) {
    if (const char* v = std::getenv("ISOL8_API_KEY"); v && *v) key = v;
  }
  if (!key || key->empty()) return fail("API key required. Use --key or set ISOL8_API_KEY env var.");
  options.masterKey = *key;

  try {
    if (configPath) {
      std::ifstream in(*configPath);
      if (!in) return fail(fmt::format("Cannot read config file {}: {}. Check the path given to --config.", *configPath,
                                       std::strerror(errno)));
      std::stringstream text;
      text << in.rdbuf();
      options.config = isol8::parseConfig(text.str(), *configPath);
    } else {
      options.config = isol8::loadConfig();
    }
  } catch (const isol8::Error& e) {
    return fail(e.message());
  }
  return isol8::server::runServer(std::move(options));
}
