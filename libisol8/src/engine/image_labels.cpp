#include "engine/image_labels.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "engine/request_validation.hpp"
#include "isol8/error.hpp"
#include "util/text.hpp"

namespace isol8::detail {

std::vector<std::string> normalizePackages(const std::vector<std::string>& packages) {
  std::vector<std::string> out;
  for (const auto& entry : packages) {
    for (const auto& part : split(entry, ',')) {
      auto name = trim(part);
      if (!name.empty()) out.push_back(std::move(name));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string joinPackages(const std::vector<std::string>& normalized) { return fmt::format("{}", fmt::join(normalized, ",")); }

void validateCustomPackages(const std::vector<std::string>& packages) {
  for (const auto& name : packages) validatePackageName(name);
}

std::string depsHash(std::string_view runtime, const std::vector<std::string>& packages, std::string_view setupScript) {
  // Newline-separated: no package name can contain one, so different inputs cannot collide.
  std::string material = std::string(runtime) + "\n" + joinPackages(normalizePackages(packages));
  if (!setupScript.empty()) material += "\nsetup:" + std::string(setupScript);
  return sha256Hex(material);
}

std::map<std::string, std::string> customImageLabels(std::string_view runtime, const std::vector<std::string>& packages,
                                                     std::string_view setupScript) {
  std::map<std::string, std::string> labels{
      {kRuntimeLabel, std::string(runtime)},
      {kDependenciesLabel, joinPackages(normalizePackages(packages))},
      {kDepsHashLabel, depsHash(runtime, packages, setupScript)},
  };
  if (!setupScript.empty()) labels[kSetupLabel] = std::string(setupScript);
  return labels;
}

namespace {

std::string quotedList(const std::vector<std::string>& packages, std::string_view prefix = {}) {
  std::string out;
  for (const auto& p : packages) {
    if (!out.empty()) out += ' ';
    out += shellQuote(std::string(prefix) + p);
  }
  return out;
}

}  // namespace

std::string customDockerfile(std::string_view runtime, const std::vector<std::string>& packages) {
  const auto pkgs = normalizePackages(packages);
  validateCustomPackages(pkgs);
  std::string text = fmt::format(
      "# Custom isol8 image (isol8 build). The root filesystem is read-only at run time and\n"
      "# /sandbox is a fresh tmpfs, so packages go to system locations the runtime searches.\n"
      "FROM isol8:{}\n",
      runtime);
  if (pkgs.empty()) return text;
  const auto list = quotedList(pkgs);
  if (runtime == "python") {
    // As root without --user: /usr/local/lib/python3.*/dist-packages, scripts in /usr/local/bin.
    text += fmt::format("RUN pip install --break-system-packages --no-cache-dir --disable-pip-version-check {}\n", list);
  } else if (runtime == "node") {
    // The image's NPM_CONFIG_PREFIX points into /sandbox; --prefix overrides it.
    text += fmt::format(
        "RUN set -eux; \\\n"
        "    npm install -g --prefix /usr/local --cache /tmp/isol8-npm-cache --no-audit --no-fund {}; \\\n"
        "    rm -rf /tmp/isol8-npm-cache; \\\n"
        "    ln -sfn /usr/local/lib/node_modules /node_modules\n",
        list);
  } else if (runtime == "bun") {
    // The image's BUN_INSTALL_* variables point into /sandbox; override them for this step.
    text += fmt::format(
        "RUN set -eux; \\\n"
        "    BUN_INSTALL_GLOBAL_DIR=/usr/local/lib/bun-global BUN_INSTALL_BIN=/usr/local/bin \\\n"
        "    BUN_INSTALL_CACHE_DIR=/tmp/isol8-bun-cache bun install -g {}; \\\n"
        "    rm -rf /tmp/isol8-bun-cache; \\\n"
        "    ln -sfn /usr/local/lib/bun-global/node_modules /node_modules\n",
        list);
  } else if (runtime == "deno") {
    // DENO_DIR (/sandbox/.deno) is hidden at run time, so `deno cache` there would be lost;
    // a package.json project with a local node_modules is found from /sandbox instead.
    text += fmt::format(
        "RUN set -eux; \\\n"
        "    mkdir -p /usr/local/lib/isol8-deno; cd /usr/local/lib/isol8-deno; \\\n"
        "    echo '{{}}' > package.json; \\\n"
        "    DENO_DIR=/tmp/isol8-deno-dir deno add {}; \\\n"
        "    rm -rf /tmp/isol8-deno-dir; \\\n"
        "    ln -sfn /usr/local/lib/isol8-deno/package.json /package.json; \\\n"
        "    ln -sfn /usr/local/lib/isol8-deno/node_modules /node_modules\n",
        quotedList(pkgs, "npm:"));
  } else if (runtime == "bash") {
    text += fmt::format(
        "RUN set -eux; \\\n"
        "    export DEBIAN_FRONTEND=noninteractive; \\\n"
        "    apt-get update; \\\n"
        "    apt-get install -y --no-install-recommends {}; \\\n"
        "    apt-get clean; \\\n"
        "    rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old\n",
        list);
  } else {
    throw Error(errc::invalid_request, fmt::format("Unknown runtime: {}", runtime));
  }
  return text;
}

std::optional<ImageCandidate> chooseCustomImage(const std::vector<ImageCandidate>& candidates,
                                                std::string_view runtime, const std::vector<std::string>& requested) {
  const auto want = normalizePackages(requested);
  if (want.empty()) return std::nullopt;
  // Rank: exact before superset, then fewer packages, then no setup script, then tag.
  using Rank = std::tuple<bool, std::size_t, bool, std::string>;
  std::optional<Rank> best;
  const ImageCandidate* chosen = nullptr;
  for (const auto& c : candidates) {
    if (c.runtime != runtime || c.tag.empty()) continue;
    const auto have = normalizePackages({c.dependencies});
    if (!std::includes(have.begin(), have.end(), want.begin(), want.end())) continue;
    Rank rank{have.size() != want.size(), have.size(), !c.setupScript.empty(), c.tag};
    if (!best || rank < *best) {
      best = std::move(rank);
      chosen = &c;
    }
  }
  if (!chosen) return std::nullopt;
  return *chosen;
}

}  // namespace isol8::detail
