// Custom images: package normalization, the deps hash, the Dockerfile, and discovery.
#include <catch2/catch.hpp>

#include "engine/image_labels.hpp"
#include "test_support.hpp"

using namespace isol8::detail;
using Packages = std::vector<std::string>;

TEST_CASE("packages are split on commas, trimmed, deduplicated and sorted", "[custom-images]") {
  CHECK(normalizePackages({" numpy ", "pandas,requests", "numpy", "", " , ,", "a,,b"}) ==
        Packages{"a", "b", "numpy", "pandas", "requests"});
  CHECK(normalizePackages({}).empty());
  CHECK(joinPackages(normalizePackages({"is-odd", "is-number"})) == "is-number,is-odd");
  // The dependencies label reads back as the same set.
  CHECK(normalizePackages({"is-number,is-odd"}) == Packages{"is-number", "is-odd"});
}

TEST_CASE("the deps hash changes with the package set, the runtime and the setup script", "[custom-images]") {
  const auto base = depsHash("python", {"numpy", "pandas"}, "");
  CHECK(base.size() == 64);
  CHECK(depsHash("python", {"pandas", "numpy", "numpy"}, "") == base);  // order and duplicates do not matter
  CHECK(depsHash("python", {"numpy"}, "") != base);
  CHECK(depsHash("python", {"numpy", "pandas", "scipy"}, "") != base);
  CHECK(depsHash("node", {"numpy", "pandas"}, "") != base);
  const auto withSetup = depsHash("python", {"numpy", "pandas"}, "echo hi");
  CHECK(withSetup != base);
  CHECK(depsHash("python", {"numpy", "pandas"}, "echo hello") != withSetup);
  // Package list and setup script cannot be confused with each other.
  CHECK(depsHash("bash", {}, "setup:x") != depsHash("bash", {"setup:x"}, ""));
}

TEST_CASE("custom image labels", "[custom-images]") {
  auto labels = customImageLabels("node", {"is-odd", "is-number"}, "");
  CHECK(labels.at("org.isol8.runtime") == "node");
  CHECK(labels.at("org.isol8.dependencies") == "is-number,is-odd");
  CHECK(labels.at("org.isol8.deps.hash") == depsHash("node", {"is-number", "is-odd"}, ""));
  CHECK(labels.count("org.isol8.setup") == 0);
  labels = customImageLabels("bash", {}, "echo hi\necho there");
  CHECK(labels.at("org.isol8.dependencies") == "");
  CHECK(labels.at("org.isol8.setup") == "echo hi\necho there");
}

TEST_CASE("package names that could reach a shell or an option parser are refused", "[custom-images]") {
  REQUIRE_ISOL8_ERROR(validateCustomPackages({"numpy", "numpy; rm -rf /"}), isol8::errc::invalid_request,
                      "Invalid package name: \"numpy; rm -rf /\". Only alphanumeric, -, _, ., /, @, and = are allowed.");
  REQUIRE_ISOL8_ERROR(customDockerfile("python", {"numpy; rm -rf /"}), isol8::errc::invalid_request,
                      "Invalid package name: \"numpy; rm -rf /\". Only alphanumeric, -, _, ., /, @, and = are allowed.");
  REQUIRE_ISOL8_ERROR(validateCustomPackages({"$(id)"}), isol8::errc::invalid_request,
                      "Invalid package name: \"$(id)\". Only alphanumeric, -, _, ., /, @, and = are allowed.");
  REQUIRE_ISOL8_ERROR(validateCustomPackages({"--index-url=evil.example/simple"}), isol8::errc::invalid_request,
                      "Invalid package name: \"--index-url=evil.example/simple\". A package name cannot start with \"-\".");
  CHECK_NOTHROW(validateCustomPackages({"@types/node", "numpy==1.26.4", "lodash@4.17.21", "python3-yaml"}));
}

TEST_CASE("the custom Dockerfile installs where the sandbox finds packages at run time", "[custom-images]") {
  const auto py = customDockerfile("python", {"pandas", "numpy"});
  CHECK_THAT(py, Catch::Contains("FROM isol8:python\n"));
  CHECK_THAT(py, Catch::Contains("pip install --break-system-packages --no-cache-dir --disable-pip-version-check "
                                 "'numpy' 'pandas'\n"));
  CHECK_THAT(py, !Catch::Contains("--user"));

  const auto node = customDockerfile("node", {"is-number"});
  CHECK_THAT(node, Catch::Contains("FROM isol8:node\n"));
  CHECK_THAT(node, Catch::Contains("npm install -g --prefix /usr/local"));
  CHECK_THAT(node, Catch::Contains("ln -sfn /usr/local/lib/node_modules /node_modules"));

  const auto bun = customDockerfile("bun", {"is-number"});
  CHECK_THAT(bun, Catch::Contains("BUN_INSTALL_GLOBAL_DIR=/usr/local/lib/bun-global"));
  CHECK_THAT(bun, Catch::Contains("bun install -g 'is-number'"));

  const auto deno = customDockerfile("deno", {"is-odd", "is-number"});
  CHECK_THAT(deno, Catch::Contains("deno add 'npm:is-number' 'npm:is-odd'"));
  CHECK_THAT(deno, Catch::Contains("echo '{}' > package.json"));

  const auto bash = customDockerfile("bash", {"jq"});
  CHECK_THAT(bash, Catch::Contains("apt-get install -y --no-install-recommends 'jq'"));
  CHECK_THAT(bash, !Catch::Contains("apk"));

  // Setup-only images are just the base image plus labels.
  const auto setupOnly = customDockerfile("bash", {});
  CHECK_THAT(setupOnly, Catch::EndsWith("FROM isol8:bash\n"));
  CHECK_THAT(setupOnly, !Catch::Contains("RUN"));

  CHECK_THROWS_AS(customDockerfile("agent", {"x"}), isol8::Error);
}

TEST_CASE("discovery: an exact package set wins over a superset", "[custom-images]") {
  const std::vector<ImageCandidate> images = {
      {"my-node:both", "node", "is-number,is-odd", ""},
      {"my-node:exact", "node", "is-number", ""},
      {"my-py:exact", "python", "is-number", ""},
  };
  auto chosen = chooseCustomImage(images, "node", {"is-number"});
  REQUIRE(chosen);
  CHECK(chosen->tag == "my-node:exact");
  // The same whatever the listing order.
  const std::vector<ImageCandidate> reversed(images.rbegin(), images.rend());
  CHECK(chooseCustomImage(reversed, "node", {"is-number"})->tag == "my-node:exact");
  // Request order, spaces and duplicates do not matter.
  CHECK(chooseCustomImage(images, "node", {"is-odd", " is-number", "is-odd"})->tag == "my-node:both");
}

TEST_CASE("discovery: a superset serves when no exact match exists; the smallest superset wins", "[custom-images]") {
  const std::vector<ImageCandidate> images = {
      {"big:1", "node", "a,b,c,d", ""},
      {"mid:1", "node", "a,b,c", ""},
      {"mid:0", "node", "a,b,c", ""},
      {"other:1", "node", "b,c", ""},
  };
  auto chosen = chooseCustomImage(images, "node", {"a"});
  REQUIRE(chosen);
  CHECK(chosen->tag == "mid:0");  // fewest packages, then the smallest tag
  CHECK(chooseCustomImage(images, "node", {"d", "a"})->tag == "big:1");
  // Among equal sets, one without a setup script is preferred.
  const std::vector<ImageCandidate> withSetup = {{"a:1", "python", "x,y", "echo hi"}, {"b:1", "python", "x,y", ""}};
  CHECK(chooseCustomImage(withSetup, "python", {"x"})->tag == "b:1");
}

TEST_CASE("discovery: no image when none holds every requested package", "[custom-images]") {
  const std::vector<ImageCandidate> images = {
      {"sub:1", "node", "is-number", ""},
      {"py:1", "python", "is-number,is-odd", ""},
      {"untagged", "node", "", ""},
  };
  CHECK_FALSE(chooseCustomImage(images, "node", {"is-number", "is-odd"}));  // only a subset, and another runtime
  CHECK_FALSE(chooseCustomImage(images, "node", {}));                       // nothing requested: the base image
  CHECK_FALSE(chooseCustomImage({}, "node", {"is-number"}));
}
