// isol8 session list|stop: the sessions of an isol8 server (--host), e.g. those kept by
// `isol8 run --host --session-id`.
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
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

constexpr const char* kUsage = "Usage: isol8 session list --host <url> [--key <key>] [--json]\n"
                               "       isol8 session stop <id> --host <url> [--key <key>]\n";

void printSessions(const std::vector<SessionInfo>& sessions, bool asJson) {
  if (asJson) {
    boost::json::array list;
    for (const auto& s : sessions)
      list.push_back(boost::json::object{{"id", s.id}, {"isActive", s.isActive}, {"lastAccessedAt", s.lastAccessedAt}});
    fmt::print("{}\n", boost::json::serialize(list));
    return;
  }
  if (sessions.empty()) {
    fmt::print("[INFO] No active sessions.\n");
    return;
  }
  for (const auto& s : sessions) {
    const auto at = unixSecondsOfIso(s.lastAccessedAt);
    fmt::print("{}  [{}]  last accessed: {}\n", s.id, s.isActive ? "running" : "idle",
               at ? localTime(*at) : s.lastAccessedAt);
  }
}

}  // namespace

int sessionCommand(const std::vector<std::string>& args, const GlobalOptions& global) {
  po::options_description desc("isol8 session");
  // clang-format off
  desc.add_options()
    ("host", po::value<std::string>(), "the isol8 server (http[s]://host:port)")
    ("key", po::value<std::string>(), "API key (else ISOL8_API_KEY, else `isol8 login`'s)")
    ("json", po::bool_switch(), "list: as JSON")
    ("help,h", po::bool_switch(), "show this help")
    ("action", po::value<std::string>(), "list or stop")
    ("id", po::value<std::string>(), "session id (stop)");
  // clang-format on
  po::positional_options_description positional;
  positional.add("action", 1).add("id", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
  po::notify(vm);
  if (vm["help"].as<bool>()) {
    fmt::print("{}", kUsage);
    return 0;
  }
  const std::string action = vm.count("action") ? vm["action"].as<std::string>() : "";
  if (action != "list" && action != "stop") {
    fmt::print(stderr, "{}", kUsage);
    return 1;
  }
  if (action == "stop" && !vm.count("id")) {
    printError("Missing session id: isol8 session stop <id> --host <url>");
    return 1;
  }
  if (!vm.count("host")) {
    printError("--host <url> is required (the isol8 server).");
    return 1;
  }
  const std::string host = vm["host"].as<std::string>();
  const auto key = resolveApiKey(host, vm.count("key") ? std::optional(vm["key"].as<std::string>()) : std::nullopt);
  if (!key) return 1;
  EngineOptions options;
  options.debug = global.debug;
  try {
    RemoteIsol8 remote(RemoteOptions{host, *key, std::nullopt}, options);
    if (action == "list") {
      printSessions(remote.listSessions(), vm["json"].as<bool>());
    } else {
      const std::string id = vm["id"].as<std::string>();
      remote.deleteSession(id);
      fmt::print("[OK] Session \"{}\" destroyed.\n", id);
    }
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  return 0;
}

}  // namespace isol8::cli
