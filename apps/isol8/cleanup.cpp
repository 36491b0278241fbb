// isol8 cleanup [--force] [--images]: list isol8's containers (and images), ask, remove them.
#include <cctype>
#include <unistd.h>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "isol8/cleanup.hpp"
#include "isol8/error.hpp"
#include "output.hpp"
#include "time_text.hpp"

namespace isol8::cli {

namespace po = boost::program_options;

namespace {

std::string shortId(std::string id) {
  if (id.starts_with("sha256:")) id.erase(0, 7);
  return id.substr(0, 12);
}

// Only "y" and "yes" (any case, surrounding spaces ignored) proceed; end of input declines.
bool confirmed(std::string_view question) {
  fmt::print("{}", question);
  std::fflush(stdout);
  std::string answer;
  const bool answered = static_cast<bool>(std::getline(std::cin, answer));
  // A terminal echoes the answer's newline; piped input does not, so end the prompt's line.
  if (!isatty(STDIN_FILENO)) fmt::print("\n");
  if (!answered) return false;
  const auto begin = answer.find_first_not_of(" \t\r");
  const auto end = answer.find_last_not_of(" \t\r");
  answer = begin == std::string::npos ? "" : answer.substr(begin, end - begin + 1);
  for (auto& ch : answer) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return answer == "y" || answer == "yes";
}

// Prints the outcome; returns false when something could not be removed.
bool report(const CleanupReport& r, std::string_view what) {
  if (r.failed == 0) fmt::print("Removed {} {}(s)\n", r.removed, what);
  else fmt::print("Removed {} {}(s), {} failed\n", r.removed, what, r.failed);
  for (const auto& error : r.errors) printError(error);
  return r.failed == 0;
}

}  // namespace

int cleanupCommand(const std::vector<std::string>& args, const GlobalOptions&) {
  po::options_description desc("isol8 cleanup");
  // clang-format off
  desc.add_options()
    ("force", po::bool_switch(), "remove without asking")
    ("images", po::bool_switch(), "also remove isol8 images");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  const bool force = vm["force"].as<bool>();
  const bool withImages = vm["images"].as<bool>();

  try {
    const auto containers = listIsol8Containers();
    const auto images = withImages ? listIsol8Images() : std::vector<Isol8Image>{};
    if (containers.empty() && images.empty()) {
      fmt::print("{}\n", withImages ? "No isol8 containers or images found" : "No isol8 containers found");
      return 0;
    }

    if (!containers.empty()) {
      fmt::print("Found {} isol8 container(s):\n", containers.size());
      for (const auto& c : containers)
        fmt::print("  {:<10} {}  {:<28} {}\n", c.state, shortId(c.id), c.image, localTime(c.created));
    }
    if (!images.empty()) {
      fmt::print("Found {} isol8 image(s):\n", images.size());
      for (const auto& i : images) {
        std::string tags;
        for (const auto& t : i.tags) tags += (tags.empty() ? "" : ", ") + t;
        fmt::print("  {}  {:<28} {}\n", shortId(i.id), tags.empty() ? "<untagged>" : tags, localTime(i.created));
      }
    }

    if (!force) {
      const char* question = withImages ? "Remove all these containers and images? [y/N] " : "Remove all these containers? [y/N] ";
      if (!confirmed(question)) {
        fmt::print("Cleanup cancelled\n");
        return 0;
      }
    }

    // Exactly what was shown is removed; containers first, as an image in use cannot go.
    bool ok = true;
    if (!containers.empty()) ok = report(removeContainers(containers), "container");
    if (!images.empty()) ok = report(removeImages(images), "image") && ok;
    return ok ? 0 : 1;
  } catch (const Error& e) {
    printError(e.message());
    return 1;
  }
}

}  // namespace isol8::cli
