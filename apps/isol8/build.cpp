// isol8 build --base <runtime> --tag <name> [--install p]... [--setup cmd|file]... [--force]:
// a custom image with packages and/or a setup script, on top of isol8:<runtime>.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

namespace {

// The runtimes a custom image can be built on, in the order the messages list them.
const std::vector<std::string> kBuildRuntimes = {"python", "node", "bun", "deno", "bash"};

// --setup takes a command or the path of a script file (its content is used).
std::string setupText(const std::string& value) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(value, ec)) return value;
  std::ifstream in(value, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto script = text.str();
  // The file's final newline would leave an empty line between joined --setup parts.
  while (!script.empty() && (script.back() == '\n' || script.back() == '\r')) script.pop_back();
  return script;
}

std::string firstLineSummary(const std::string& script) {
  const auto nl = script.find('\n');
  if (nl == std::string::npos) return script;
  const bool more = script.find_first_not_of(" \t\r\n", nl) != std::string::npos;
  return script.substr(0, nl) + (more ? " ..." : "");
}

}  // namespace

int buildCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  po::options_description desc("isol8 build");
  // clang-format off
  desc.add_options()
    ("base", po::value<std::string>(), "runtime the image builds on: python, node, bun, deno, bash")
    ("tag", po::value<std::string>(), "name of the image, e.g. my-python-ml:1")
    ("install", po::value<std::vector<std::string>>()->composing(), "package to install (repeatable, or a,b,c)")
    ("setup", po::value<std::vector<std::string>>()->composing(), "setup command or script file (repeatable)")
    ("force", po::bool_switch(), "rebuild even if up to date (also rebuilds the base image)");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  for (const char* required : {"base", "tag"}) {
    if (!vm.count(required)) {
      fmt::print(stderr, "error: required option '--{} <{}>' not specified\n", required,
                 std::string_view(required) == "base" ? "runtime" : "name");
      return 1;
    }
  }

  CustomImageSpec spec;
  spec.runtime = vm["base"].as<std::string>();
  spec.tag = vm["tag"].as<std::string>();
  if (std::find(kBuildRuntimes.begin(), kBuildRuntimes.end(), spec.runtime) == kBuildRuntimes.end()) {
    printError(fmt::format("Invalid runtime: {}. Expected one of: {}", spec.runtime, fmt::join(kBuildRuntimes, ", ")));
    return 1;
  }
  if (vm.count("install")) spec.installPackages = vm["install"].as<std::vector<std::string>>();
  std::vector<std::string> setups;
  if (vm.count("setup"))
    for (const auto& s : vm["setup"].as<std::vector<std::string>>()) setups.push_back(setupText(s));
  spec.setupScript = fmt::format("{}", fmt::join(setups, "\n"));
  const bool force = vm["force"].as<bool>();

  // The same normalization as the image's label: split on commas, trimmed, unique, sorted.
  std::vector<std::string> packages;
  for (const auto& entry : spec.installPackages) {
    std::size_t start = 0;
    while (start <= entry.size()) {
      auto end = entry.find(',', start);
      if (end == std::string::npos) end = entry.size();
      auto name = entry.substr(start, end - start);
      name.erase(0, name.find_first_not_of(" \t\r\n"));
      name.erase(name.find_last_not_of(" \t\r\n") + 1);
      if (!name.empty()) packages.push_back(name);
      start = end + 1;
    }
  }
  std::sort(packages.begin(), packages.end());
  packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
  const bool hasSetup = spec.setupScript.find_first_not_of(" \t\r\n") != std::string::npos;
  if (packages.empty() && !hasSetup) {
    printError("No packages or setup script specified. Use --install <package> or --setup <command>.");
    return 1;
  }
  spec.installPackages = packages;

  ImageBuilder builder([](std::string_view line) { fmt::print(stderr, "{}\n", line); });
  try {
    // Package names and the tag are checked, then Docker is pinged, before anything is built.
    const auto status = builder.buildCustom(spec, force);
    if (status.built)
      fmt::print("[DONE] Custom image build complete!\n");
    else
      fmt::print("[OK] {} is up to date (same packages and setup script; --force rebuilds it)\n", status.tag);
    fmt::print("  Runtime:  {}\n", status.runtime);
    if (!spec.installPackages.empty()) fmt::print("  Packages: {}\n", fmt::join(spec.installPackages, ", "));
    if (hasSetup) fmt::print("  Setup:    {}\n", firstLineSummary(spec.setupScript));
    fmt::print("  Image:    {}\n", status.tag);
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  return 0;
}

}  // namespace isol8::cli
