// isol8 login / logout: obtain an API key from an isol8 server (with its master key) and keep
// it in ~/.isol8/credentials.json for later `run --host` and `session` commands.
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "credentials.hpp"
#include "isol8/remote_isol8.hpp"
#include "output.hpp"
#include "time_text.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

namespace {

// "2026-03-01T12:00:00.000Z", as the original names its login keys.
std::string isoNow() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

}  // namespace

int loginCommand(const std::vector<std::string>& args, const GlobalOptions& global) {
  po::options_description desc("isol8 login");
  // clang-format off
  desc.add_options()
    ("host", po::value<std::string>(), "the isol8 server (http[s]://host:port)")
    ("key", po::value<std::string>(), "the server's master key (else ISOL8_API_KEY)")
    ("name", po::value<std::string>(), "name of the new key (default cli-login-<time>)")
    ("ttl", po::value<long long>(), "lifetime of the new key in ms (default: the server's, 24 h)")
    ("help,h", po::bool_switch(), "show this help");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm["help"].as<bool>()) {
    fmt::print("Usage: isol8 login --host <url> --key <master key> [--name <name>] [--ttl <ms>]\n");
    return 0;
  }
  if (!vm.count("host")) {
    printError("--host <url> is required (the isol8 server).");
    return 1;
  }
  const std::string host = vm["host"].as<std::string>();
  std::string key = vm.count("key") ? vm["key"].as<std::string>() : "";
  if (const char* env = std::getenv("ISOL8_API_KEY"); key.empty() && env) key = env;
  if (key.empty()) {
    printError("Master key required. Use --key or ISOL8_API_KEY env var.");
    return 1;
  }
  LoginOptions login;
  login.name = vm.count("name") ? vm["name"].as<std::string>() : "cli-login-" + isoNow();
  if (vm.count("ttl")) login.ttlMs = vm["ttl"].as<long long>();
  EngineOptions options;
  options.debug = global.debug;
  try {
    RemoteIsol8 remote(RemoteOptions{host, key, std::nullopt}, options);
    const LoginResult result = remote.login(login);
    saveCredentials(Credentials{host, result.token, result.expiresAt, result.keyId});
    const auto expires = unixSecondsOfIso(result.expiresAt);
    fmt::print("[OK] Logged in\n");
    fmt::print("  Host:    {}\n", host);
    fmt::print("  Expires: {}\n", expires ? localTime(*expires) : result.expiresAt);
    fmt::print("  Stored:  {}\n", credentialsPath().string());
  } catch (const RemoteError& e) {
    printError(e.message());
    if (e.status() == 400)
      printWarning("The server may not have DB-backed auth enabled: start it with --auth-db <conn>.");
    return 1;
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  return 0;
}

int logoutCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  if (!args.empty()) {
    fmt::print(stderr, "error: too many arguments for 'logout'\n");
    return 1;
  }
  if (removeCredentials()) fmt::print("[OK] Credentials removed from {}\n", credentialsPath().string());
  else fmt::print("[INFO] No stored credentials found.\n");
  return 0;
}

}  // namespace isol8::cli
