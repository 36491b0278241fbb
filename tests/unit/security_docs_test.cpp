// docs/security.md lists every case of the attack suite (tests/security/): a case added or
// renamed without the table, or a row without its case, fails here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>

namespace {

namespace fs = std::filesystem;
using Case = std::pair<std::string, std::string>;  // file name, test case name

std::string readText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<Case> casesInSuite() {
  std::set<Case> cases;
  const std::regex testCase(R"re(TEST_CASE\(\s*"([^"]+)")re");
  for (const auto& entry : fs::directory_iterator(fs::path(ISOL8_SOURCE_DIR) / "tests" / "security")) {
    if (!entry.path().string().ends_with("_test.cpp")) continue;
    const std::string text = readText(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), testCase), end; it != end; ++it)
      cases.emplace(entry.path().filename().string(), (*it)[1].str());
  }
  return cases;
}

// Rows "| `file` | case |" of the section "## Attack suite".
std::set<Case> casesInDocs() {
  std::set<Case> cases;
  std::istringstream text(readText(fs::path(ISOL8_SOURCE_DIR) / "docs" / "security.md"));
  const std::regex row(R"re(^\| `([^`]+)` \| (.+) \|$)re");
  bool inSection = false;
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with("## ")) inSection = line == "## Attack suite";
    std::smatch m;
    if (inSection && std::regex_match(line, m, row)) cases.emplace(m[1].str(), m[2].str());
  }
  return cases;
}

}  // namespace

TEST_CASE("docs/security.md lists exactly the cases of the attack suite", "[docs][security]") {
  const auto suite = casesInSuite();
  const auto docs = casesInDocs();
  CHECK(suite.size() >= 60);
  for (const auto& [file, name] : suite) {
    INFO("in " << file << " but not in docs/security.md: " << name);
    CHECK(docs.count({file, name}) == 1);
  }
  for (const auto& [file, name] : docs) {
    INFO("in docs/security.md but not in tests/security/" << file << ": " << name);
    CHECK(suite.count({file, name}) == 1);
  }
}
