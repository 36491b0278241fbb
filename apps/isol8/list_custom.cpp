// isol8 list-custom: the local custom images (every image labelled org.isol8.runtime).
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "output.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

int listCustomCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  po::options_description desc("isol8 list-custom");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);

  std::vector<CustomImageInfo> images;
  try {
    images = ImageBuilder().listCustom();
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
  if (images.empty()) {
    fmt::print("No custom isol8 images found.\n");
    return 0;
  }
  fmt::print("Custom isol8 images:\n");
  for (const auto& image : images) {
    const auto& setup = image.setupScript;
    const auto nl = setup.find('\n');
    const bool more = nl != std::string::npos && setup.find_first_not_of(" \t\r\n", nl) != std::string::npos;
    fmt::print("\n  {}\n", image.tag);
    fmt::print("    Runtime:      {}\n", image.runtime);
    fmt::print("    Dependencies: {}\n", image.dependencies.empty() ? "(none)" : image.dependencies);
    if (!setup.empty()) fmt::print("    Setup:        {}{}\n", setup.substr(0, nl), more ? " ..." : "");
  }
  return 0;
}

}  // namespace isol8::cli
