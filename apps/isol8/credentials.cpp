#include "credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "isol8/error.hpp"
#include "output.hpp"
#include "time_text.hpp"

namespace isol8::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string withoutTrailingSlash(std::string host) {
  if (host.ends_with('/')) host.pop_back();
  return host;
}

std::optional<Credentials> loadCredentials() {
  std::ifstream file(credentialsPath());
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  boost::system::error_code ec;
  const json::value value = json::parse(text.str(), ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  auto get = [&](const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  return Credentials{get("host"), get("token"), get("expiresAt"), get("keyId")};
}

bool expired(const std::string& expiresAt) {
  const auto at = unixSecondsOfIso(expiresAt);
  return !at || *at < std::time(nullptr);  // unreadable counts as expired: a new login fixes it
}

}  // namespace

fs::path credentialsPath() {
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".isol8" / "credentials.json";
}

void saveCredentials(const Credentials& c) {
  const auto path = credentialsPath();
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const json::object o{{"host", c.host}, {"token", c.token}, {"expiresAt", c.expiresAt}, {"keyId", c.keyId}};
  const std::string text = json::serialize(o) + "\n";
  // Created 0600 and then chmod-ed: an older file may have had wider permissions.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(errc::io_error, "Cannot write " + path.string());
  const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) throw Error(errc::io_error, "Cannot write " + path.string());
}

bool removeCredentials() {
  std::error_code ec;
  return fs::remove(credentialsPath(), ec);
}

std::optional<std::string> resolveApiKey(const std::string& host, const std::optional<std::string>& keyFlag) {
  if (keyFlag && !keyFlag->empty()) return keyFlag;
  if (const char* env = std::getenv("ISOL8_API_KEY"); env && *env) return std::string(env);
  if (auto stored = loadCredentials(); stored && !stored->token.empty() &&
                                       withoutTrailingSlash(stored->host) == withoutTrailingSlash(host)) {
    if (!expired(stored->expiresAt)) return stored->token;
    printWarning("Stored credentials have expired. Run `isol8 login` to re-authenticate.");
  }
  printError("API key required. Use --key, ISOL8_API_KEY env var, or `isol8 login`.");
  return std::nullopt;
}

}  // namespace isol8::cli
