// Custom images (`isol8 build`): their labels, their Dockerfile, and which local image serves
// a request's packages. Pure logic, no Docker: custom_images.cpp does the talking.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

// The labels every custom image carries (the original's names).
inline constexpr const char* kRuntimeLabel = "org.isol8.runtime";          // "node"
inline constexpr const char* kDependenciesLabel = "org.isol8.dependencies";  // "is-number,is-odd"
inline constexpr const char* kDepsHashLabel = "org.isol8.deps.hash";       // depsHash(...)
inline constexpr const char* kSetupLabel = "org.isol8.setup";              // the setup script

// Splits every entry on commas (`--install a,b`), trims, drops empties, removes duplicates,
// sorts. The dependencies label is this list joined with ",".
std::vector<std::string> normalizePackages(const std::vector<std::string>& packages);
std::string joinPackages(const std::vector<std::string>& normalized);

// validatePackageName for each, plus: a name may not start with '-', which the installers
// would read as an option (e.g. `--index-url=...`). Throws Error(invalid_request):
//   Invalid package name: "<n>". A package name cannot start with "-".
void validateCustomPackages(const std::vector<std::string>& packages);

// SHA-256 (hex) over the runtime, the normalized packages and, when non-empty, "setup:" plus
// the setup script. Equal hash = the image already is what was asked for.
std::string depsHash(std::string_view runtime, const std::vector<std::string>& packages, std::string_view setupScript);

// The four labels of a custom image (the setup label only when there is a script).
std::map<std::string, std::string> customImageLabels(std::string_view runtime, const std::vector<std::string>& packages,
                                                     std::string_view setupScript);

// The Dockerfile of a custom image: FROM isol8:<runtime> plus one RUN that installs
// `packages` (normalized, validated) where the sandbox still finds them at run time, under
// the read-only root with /sandbox hidden by a tmpfs:
//   python  pip install (as root) into /usr/local/lib/python3.*/dist-packages, on sys.path
//   node    npm install -g --prefix /usr/local: /usr/local/lib/node_modules (in NODE_PATH
//           for require) and /node_modules linked to it (ESM import resolves by walking up)
//   bun     bun install -g into /usr/local/lib/bun-global, /node_modules linked to its
//           node_modules
//   deno    deno add npm:<p> in /usr/local/lib/isol8-deno (package.json + node_modules),
//           linked as /package.json and /node_modules: deno's package.json mode then
//           resolves `npm:<p>` and bare `<p>` from there, offline
//   bash    apt-get install -y --no-install-recommends (Debian packages)
// The setup script is not written into the image: it lives in the label (the engine runs it
// in each new container, where /sandbox is a fresh tmpfs anyway).
std::string customDockerfile(std::string_view runtime, const std::vector<std::string>& packages);

// A local image that may serve a request: one of its tags and its labels.
struct ImageCandidate {
  std::string tag;
  std::string runtime;       // org.isol8.runtime
  std::string dependencies;  // org.isol8.dependencies (comma-joined)
  std::string setupScript;   // org.isol8.setup
};

// Which candidate serves `requested` packages for `runtime` (nullopt: none; empty request:
// none). Only candidates of that runtime count. A candidate whose package set equals the
// request wins; else one whose set contains the request (a superset). Among several, the
// one with the fewest packages, then one without a setup script, then the smallest tag:
// the choice does not depend on the order Docker lists images in.
std::optional<ImageCandidate> chooseCustomImage(const std::vector<ImageCandidate>& candidates,
                                                std::string_view runtime, const std::vector<std::string>& requested);

}  // namespace isol8::detail
