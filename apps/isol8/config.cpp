// isol8 config [--json]: the configuration in effect (file or defaults), for a person or as JSON.
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

namespace {

std::string listOr(const std::vector<std::string>& items, std::string_view empty) {
  if (items.empty()) return std::string(empty);
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void row(std::string_view name, std::string_view value) { fmt::print("  {:<18}{}\n", fmt::format("{}:", name), value); }

void printSummary(const Config& c) {
  fmt::print("Isol8 Configuration\n");
  fmt::print("Source: {}\n", c.source.empty() ? "defaults (no config file found)" : c.source);

  fmt::print("\nGeneral\n");
  row("Max concurrent", std::to_string(c.maxConcurrent));
  row("Debug", c.debug ? "true" : "false");

  fmt::print("\nDefaults\n");
  row("Timeout", fmt::format("{}ms", c.defaults.timeoutMs));
  row("Memory", c.defaults.memoryLimit);
  row("CPU", fmt::format("{}", c.defaults.cpuLimit));
  row("Network", toString(c.defaults.network));
  row("Sandbox size", c.defaults.sandboxSize);
  row("Tmp size", c.defaults.tmpSize);
  row("Read-only root", c.defaults.readonlyRootFs ? "true" : "false");

  fmt::print("\nNetwork Filter\n");
  row("Whitelist", listOr(c.network.whitelist, "(none)"));
  row("Blacklist", listOr(c.network.blacklist, "(none)"));

  fmt::print("\nRemote Code\n");
  row("Enabled", c.remoteCode.enabled ? "true" : "false");
  row("Schemes", listOr(c.remoteCode.allowedSchemes, "(none)"));
  row("Allowed hosts", listOr(c.remoteCode.allowedHosts, "(any)"));
  row("Blocked hosts", fmt::format("{} pattern(s)", c.remoteCode.blockedHosts.size()));
  row("Max size", fmt::format("{} bytes", c.remoteCode.maxCodeSize));
  row("Fetch timeout", fmt::format("{}ms", c.remoteCode.fetchTimeoutMs));
  row("Require hash", c.remoteCode.requireHash ? "true" : "false");

  fmt::print("\nCleanup\n");
  row("Auto-prune", c.cleanup.autoPrune ? "true" : "false");
  row("Max idle", fmt::format("{}ms ({} min)", c.cleanup.maxContainerAgeMs, c.cleanup.maxContainerAgeMs / 60000.0));

  fmt::print("\nPool Defaults\n");
  row("Strategy", toString(c.poolStrategy));
  row("Size", fmt::format("{} clean, {} dirty", c.poolSize.clean, c.poolSize.dirty));

  fmt::print("\nSecurity\n");
  row("Seccomp", toString(c.security.seccomp));
  if (!c.security.customProfilePath.empty()) row("Custom profile", c.security.customProfilePath);

  if (!c.prebuiltImages.empty()) {
    fmt::print("\nPrebuilt Images\n");
    for (const auto& image : c.prebuiltImages)
      row(image.tag, fmt::format("{} [{}]", image.runtime, listOr(image.installPackages, "no packages")));
  }
}

}  // namespace

int configCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  po::options_description desc("isol8 config");
  desc.add_options()("json", po::bool_switch(), "print the configuration as JSON");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);

  Config config;
  try {
    config = loadConfig();
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  if (vm["json"].as<bool>()) {
    fmt::print("{}\n", toJson(config));
  } else {
    printSummary(config);
  }
  return 0;
}

}  // namespace isol8::cli
