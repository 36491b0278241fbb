// isol8 setup [--force]: build the runtime images that are missing or out of date, then the
// configuration's prebuiltImages (custom images).
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include <fmt/ranges.h>
#include "isol8/image_builder.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

int setupCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  po::options_description desc("isol8 setup");
  desc.add_options()("force", po::bool_switch(), "rebuild even if up to date");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  const bool force = vm["force"].as<bool>();

  ImageBuilder builder([](std::string_view line) { fmt::print(stderr, "{}\n", line); });
  try {
    const Config config = loadConfig();
    for (const auto& status : builder.setup({}, force))
      fmt::print("[OK] {}{}\n", status.runtime, status.built ? "" : ": Up to date");
    for (const auto& image : config.prebuiltImages) {
      CustomImageSpec spec{image.tag, image.runtime, image.installPackages, image.setupScript.value_or("")};
      const auto status = builder.buildCustom(spec, force);
      if (status.built)
        fmt::print("[OK] {} ({}: {})\n", image.tag, image.runtime, fmt::join(image.installPackages, ", "));
      else
        fmt::print("[OK] {} (already exists)\n", image.tag);
    }
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  fmt::print("\n[DONE] Setup complete!\n");
  return 0;
}

}  // namespace isol8::cli
