// isol8 config: finds the file of the working directory, prints it for people or as JSON, and
// refuses an invalid file with the file and the key named.
#include <filesystem>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "support.hpp"

using isol8::test::CommandResult;
using isol8::test::runProgram;
using isol8::test::TempDir;

namespace {

// The CLI with $HOME pointing at an empty folder, so the developer's own config stays out.
struct ConfigRun {
  TempDir home, cwd;
  CommandResult run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"env", "HOME=" + home.path, ISOL8_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, std::nullopt, cwd.path);
  }
};

constexpr const char* kConfig = R"({
  "maxConcurrent": 4,
  "defaults": {"timeoutMs": 12345, "network": "host"},
  "network": {"whitelist": ["^pypi\\.org$"], "blacklist": ["^evil\\.com$"]},
  "poolStrategy": "secure",
  "somethingUnknown": true
})";

}  // namespace

TEST_CASE("config: prints every section and says when only the defaults apply", "[cli][config]") {
  ConfigRun t;
  const auto r = t.run({"config"});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find("Isol8 Configuration") != std::string::npos);
  CHECK(r.out.find("Source: defaults (no config file found)") != std::string::npos);
  for (const char* section : {"\nGeneral\n", "\nDefaults\n", "\nNetwork Filter\n", "\nRemote Code\n", "\nCleanup\n", "\nPool Defaults\n"})
    CHECK(r.out.find(section) != std::string::npos);
  CHECK(r.out.find("30000ms") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("config: reads isol8.config.json of the working directory", "[cli][config]") {
  ConfigRun t;
  const auto path = t.cwd.write("isol8.config.json", kConfig);
  const auto r = t.run({"config"});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find("Source: " + path) != std::string::npos);
  CHECK(r.out.find("12345ms") != std::string::npos);
  CHECK(r.out.find("secure") != std::string::npos);
  // The network blacklist is shown with the network filter, not under Remote Code.
  const auto blacklist = r.out.find("^evil\\.com$");
  REQUIRE(blacklist != std::string::npos);
  CHECK(blacklist > r.out.find("Network Filter"));
  CHECK(blacklist < r.out.find("Remote Code"));
}

TEST_CASE("config --json: parses and shows the file's values over the defaults", "[cli][config]") {
  ConfigRun t;
  t.cwd.write("isol8.config.json", kConfig);
  const auto r = t.run({"config", "--json"});
  REQUIRE(r.exitCode == 0);
  const auto root = boost::json::parse(r.out).as_object();
  CHECK(root.at("maxConcurrent").as_int64() == 4);
  CHECK(root.at("defaults").at("timeoutMs").as_int64() == 12345);
  CHECK(root.at("defaults").at("network").as_string() == "host");
  CHECK(root.at("defaults").at("memoryLimit").as_string() == "512m");
  CHECK(root.at("network").at("blacklist").at(0).as_string() == "^evil\\.com$");
  CHECK(root.at("poolStrategy").as_string() == "secure");
  CHECK(root.at("remoteCode").at("enabled").as_bool() == false);
  CHECK_FALSE(root.contains("somethingUnknown"));
  CHECK(r.out.starts_with("{\n  \"debug\": false,\n"));
}

TEST_CASE("config: the home file applies when the working directory has none", "[cli][config]") {
  ConfigRun t;
  std::filesystem::create_directories(std::filesystem::path(t.home.path) / ".isol8");
  t.home.write(".isol8/config.json", R"({"maxConcurrent": 2})");
  const auto r = t.run({"config", "--json"});
  REQUIRE(r.exitCode == 0);
  CHECK(boost::json::parse(r.out).at("maxConcurrent").as_int64() == 2);
}

TEST_CASE("config: an invalid file is an [ERR] naming the file and the key, exit 1", "[cli][config]") {
  ConfigRun t;
  SECTION("a wrong value") {
    const auto path = t.cwd.write("isol8.config.json", R"({"defaults": {"network": "bridge"}})");
    const auto r = t.run({"config"});
    CHECK(r.exitCode == 1);
    CHECK(r.err == "[ERR] Invalid config file " + path +
                       ": defaults.network must be one of none, host, filtered, got \"bridge\"\n");
    CHECK(r.out.empty());
  }
  SECTION("broken JSON") {
    const auto path = t.cwd.write("isol8.config.json", "{\"maxConcurrent\": 4,");
    const auto r = t.run({"config", "--json"});
    CHECK(r.exitCode == 1);
    CHECK(r.err.starts_with("[ERR] Invalid config file " + path + ": invalid JSON at line 1"));
  }
}
