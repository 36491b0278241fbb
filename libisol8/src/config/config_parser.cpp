// parseConfig: a config file's JSON over the defaults, every value checked, so a typo fails at
// load time with the file and the key named instead of surfacing later inside Docker.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <regex>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "engine/request_validation.hpp"
#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include "isol8/runtime_registry.hpp"
#include "network/host_policy.hpp"

namespace isol8 {

namespace json = boost::json;

namespace {

// Reads one file's values; every failure names the file and the key.
class ConfigReader {
 public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(std::string_view detail) const {
    if (source_.empty()) throw Error(errc::invalid_request, fmt::format("Invalid config: {}", detail));
    throw Error(errc::invalid_request, fmt::format("Invalid config file {}: {}", source_, detail));
  }

  json::value parse(std::string_view text) const {
    // A UTF-8 byte order mark, as some editors write, is not an error.
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    json::parser parser;
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(text.data(), text.size(), ec);
    if (ec) {
      const std::string_view before = text.substr(0, std::min(consumed, text.size()));
      const auto line = 1 + std::count(before.begin(), before.end(), '\n');
      const auto lineStart = before.rfind('\n');
      const auto column = 1 + before.size() - (lineStart == std::string_view::npos ? 0 : lineStart + 1);
      fail(fmt::format("invalid JSON at line {}, column {}: {}", line, column, ec.message()));
    }
    return parser.release();
  }

  // The value of `key`, or nullptr when it is absent or null (both keep the default).
  static const json::value* field(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return (value && !value->is_null()) ? value : nullptr;
  }

  // A section such as "defaults": nullptr when absent, else it must be an object.
  const json::object* section(const json::object& object, std::string_view key) const {
    const auto* value = field(object, key);
    if (!value) return nullptr;
    if (!value->is_object()) fail(fmt::format("{} must be an object", key));
    return &value->get_object();
  }

  void readBool(const json::object& object, std::string_view path, std::string_view key, bool& out) const {
    if (const auto* value = field(object, key)) {
      if (!value->is_bool()) fail(fmt::format("{}{} must be true or false", path, key));
      out = value->get_bool();
    }
  }

  void readString(const json::object& object, std::string_view path, std::string_view key, std::string& out) const {
    if (const auto* value = field(object, key)) out = stringValue(*value, fmt::format("{}{}", path, key));
  }

  void readOptionalString(const json::object& object, std::string_view path, std::string_view key,
                          std::optional<std::string>& out) const {
    if (const auto* value = field(object, key)) out = stringValue(*value, fmt::format("{}{}", path, key));
  }

  // A whole number at least `minimum` (1 for "positive", 0 for "non-negative").
  template <typename Int>
  void readInteger(const json::object& object, std::string_view path, std::string_view key, Int& out,
                   std::int64_t minimum = 1) const {
    const auto* value = field(object, key);
    if (!value) return;
    const std::string name = fmt::format("{}{}", path, key);
    out = static_cast<Int>(integerValue(*value, name, minimum, std::numeric_limits<Int>::max()));
  }

  void readPositiveNumber(const json::object& object, std::string_view path, std::string_view key, double& out) const {
    const auto* value = field(object, key);
    if (!value) return;
    if (!value->is_number() || !(value->to_number<double>() > 0) || !std::isfinite(value->to_number<double>()))
      fail(fmt::format("{}{} must be a positive number", path, key));
    out = value->to_number<double>();
  }

  // A size such as "512m": the grammar of memory limits (units k, m, g, t; powers of 1024).
  void readSize(const json::object& object, std::string_view path, std::string_view key, std::string& out) const {
    const auto* value = field(object, key);
    if (!value) return;
    const std::string name = fmt::format("{}{}", path, key);
    std::string text = stringValue(*value, name);
    try {
      detail::parseMemoryLimit(text);
    } catch (const Error&) {
      fail(fmt::format("{} must be a size such as \"512m\" or \"1g\", got \"{}\"", name, text));
    }
    out = std::move(text);
  }

  template <typename Enum>
  void readEnum(const json::object& object, std::string_view path, std::string_view key, Enum& out,
                std::optional<Enum> (*parse)(const std::string&), std::string_view allowed) const {
    const auto* value = field(object, key);
    if (!value) return;
    const std::string name = fmt::format("{}{}", path, key);
    const std::string text = stringValue(*value, name);
    const auto parsed = parse(text);
    if (!parsed) fail(fmt::format("{} must be one of {}, got \"{}\"", name, allowed, text));
    out = *parsed;
  }

  // A list of strings; `check` (optional) validates each item given its name ("key[2]").
  void readStringList(const json::object& object, std::string_view path, std::string_view key,
                      std::vector<std::string>& out,
                      const std::function<void(const std::string& name, const std::string& item)>& check = {}) const {
    const auto* value = field(object, key);
    if (!value) return;
    const std::string name = fmt::format("{}{}", path, key);
    if (!value->is_array()) fail(fmt::format("{} must be a list of strings", name));
    std::vector<std::string> items;
    for (std::size_t i = 0; i < value->get_array().size(); ++i) {
      const auto& element = value->get_array()[i];
      const std::string itemName = fmt::format("{}[{}]", name, i);
      if (!element.is_string()) fail(fmt::format("{} must be a string", itemName));
      std::string item(element.get_string());
      if (check) check(itemName, item);
      items.push_back(std::move(item));
    }
    out = std::move(items);  // lists replace the default, they are not appended to
  }

  // Host-name patterns are ECMAScript regular expressions, matched case-insensitively.
  void checkPattern(const std::string& name, const std::string& pattern) const {
    try {
      std::regex compiled(pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      fail(fmt::format("{} is not a valid regular expression: \"{}\" ({})", name, pattern, e.what()));
    }
  }

  std::int64_t integerValue(const json::value& value, const std::string& name, std::int64_t minimum,
                            std::int64_t maximum) const {
    const char* wanted = minimum > 0 ? "a positive number" : "a number, 0 or more";
    if (!value.is_number()) fail(fmt::format("{} must be {}", name, wanted));
    std::int64_t result = 0;
    if (value.is_int64()) {
      result = value.get_int64();
    } else if (value.is_uint64()) {
      fail(fmt::format("{} is too large", name));
    } else {
      const double d = value.get_double();
      if (!std::isfinite(d) || std::floor(d) != d) fail(fmt::format("{} must be a whole number", name));
      if (std::fabs(d) >= 9.2e18) fail(fmt::format("{} is too large", name));
      result = static_cast<std::int64_t>(d);
    }
    if (result < minimum) fail(fmt::format("{} must be {}", name, wanted));
    if (result > maximum) fail(fmt::format("{} is too large", name));
    return result;
  }

  std::string stringValue(const json::value& value, const std::string& name) const {
    if (!value.is_string()) fail(fmt::format("{} must be a string", name));
    return std::string(value.get_string());
  }

 private:
  std::string source_;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void readDefaults(const ConfigReader& r, const json::object& o, ExecutionDefaults& d) {
  constexpr std::string_view p = "defaults.";
  r.readInteger(o, p, "timeoutMs", d.timeoutMs);
  r.readSize(o, p, "memoryLimit", d.memoryLimit);
  r.readPositiveNumber(o, p, "cpuLimit", d.cpuLimit);
  r.readEnum(o, p, "network", d.network, &parseNetworkMode, "none, host, filtered");
  r.readSize(o, p, "sandboxSize", d.sandboxSize);
  r.readSize(o, p, "tmpSize", d.tmpSize);
  r.readBool(o, p, "readonlyRootFs", d.readonlyRootFs);
  r.readInteger(o, p, "maxFileSize", d.maxFileSize);
}

// network.registries: {"<runtime>": ["host", ...]}; a runtime named replaces its default list,
// the others keep theirs.
void readRegistries(const ConfigReader& r, const json::object& o, PackageRegistries& registries) {
  const auto* section = r.section(o, "registries");
  if (!section) return;
  const auto runtimes = RuntimeRegistry::list();
  for (const auto& entry : *section) {
    const std::string name(entry.key());
    if (std::find(runtimes.begin(), runtimes.end(), name) == runtimes.end())
      r.fail(fmt::format("network.registries.{} is not a runtime (one of {})", name, joined(runtimes)));
    r.readStringList(*section, "network.registries.", name, registries[name],
                     [&r](const std::string& itemName, const std::string& host) {
                       if (!detail::isValidHost(detail::normalizeHost(host)))
                         r.fail(fmt::format("{} must be a host name such as \"pypi.org\", got \"{}\"", itemName, host));
                     });
  }
}

void readNetwork(const ConfigReader& r, const json::object& o, NetworkFilter& n, PackageRegistries& registries) {
  auto pattern = [&r](const std::string& name, const std::string& item) { r.checkPattern(name, item); };
  r.readStringList(o, "network.", "whitelist", n.whitelist, pattern);
  r.readStringList(o, "network.", "blacklist", n.blacklist, pattern);
  r.readStringList(o, "network.", "allowedAddresses", n.allowedAddresses, {});
  readRegistries(r, o, registries);
}

void readCleanup(const ConfigReader& r, const json::object& o, CleanupConfig& c) {
  r.readBool(o, "cleanup.", "autoPrune", c.autoPrune);
  r.readInteger(o, "cleanup.", "maxContainerAgeMs", c.maxContainerAgeMs);
  r.readInteger(o, "cleanup.", "removalRetryMs", c.removalRetryMs);
  r.readInteger(o, "cleanup.", "removalRetryMaxMs", c.removalRetryMaxMs);
}

void readPoolSize(const ConfigReader& r, const json::value& value, PoolSize& size) {
  // A number n means {clean: n, dirty: n}; an object sets either or both.
  if (value.is_number()) {
    const int n = static_cast<int>(r.integerValue(value, "poolSize", 0, std::numeric_limits<int>::max()));
    size = PoolSize{n, n};
    return;
  }
  if (!value.is_object()) r.fail("poolSize must be a number or an object {\"clean\": n, \"dirty\": n}");
  r.readInteger(value.get_object(), "poolSize.", "clean", size.clean, 0);
  r.readInteger(value.get_object(), "poolSize.", "dirty", size.dirty, 0);
}

void readSecurity(const ConfigReader& r, const json::object& o, SecurityOptions& s) {
  r.readEnum(o, "security.", "seccomp", s.seccomp, &parseSeccompMode, "strict, unconfined, custom");
  r.readString(o, "security.", "customProfilePath", s.customProfilePath);
}

void readRemoteCode(const ConfigReader& r, const json::object& o, RemoteCodeConfig& rc) {
  constexpr std::string_view p = "remoteCode.";
  auto pattern = [&r](const std::string& name, const std::string& item) { r.checkPattern(name, item); };
  auto scheme = [&r](const std::string& name, const std::string& item) {
    static const std::regex kScheme("^[A-Za-z][A-Za-z0-9+.-]*$");
    if (!std::regex_match(item, kScheme)) r.fail(fmt::format("{} must be a URL scheme such as \"https\", got \"{}\"", name, item));
  };
  r.readBool(o, p, "enabled", rc.enabled);
  r.readStringList(o, p, "allowedSchemes", rc.allowedSchemes, scheme);
  r.readStringList(o, p, "allowedHosts", rc.allowedHosts, pattern);
  r.readStringList(o, p, "blockedHosts", rc.blockedHosts, pattern);
  r.readStringList(o, p, "allowedAddresses", rc.allowedAddresses, {});
  r.readInteger(o, p, "maxCodeSize", rc.maxCodeSize);
  r.readInteger(o, p, "fetchTimeoutMs", rc.fetchTimeoutMs);
  r.readBool(o, p, "requireHash", rc.requireHash);
  r.readBool(o, p, "enableCache", rc.enableCache);
  r.readInteger(o, p, "cacheTtl", rc.cacheTtl, 0);
}

void readAudit(const ConfigReader& r, const json::object& o, AuditConfig& a) {
  constexpr std::string_view p = "audit.";
  r.readBool(o, p, "enabled", a.enabled);
  r.readString(o, p, "destination", a.destination);
  if (a.destination != "filesystem" && a.destination != "file" && a.destination != "stdout")
    r.fail(fmt::format("audit.destination must be one of filesystem, file, stdout, got \"{}\"", a.destination));
  r.readOptionalString(o, p, "logDir", a.logDir);
  r.readOptionalString(o, p, "postLogScript", a.postLogScript);
  r.readBool(o, p, "trackResources", a.trackResources);
  r.readInteger(o, p, "retentionDays", a.retentionDays);
  r.readBool(o, p, "includeCode", a.includeCode);
  r.readBool(o, p, "includeOutput", a.includeOutput);
}

void readAuth(const ConfigReader& r, const json::object& o, AuthConfig& a) {
  r.readBool(o, "auth.", "enabled", a.enabled);
  r.readOptionalString(o, "auth.", "connectionString", a.connectionString);
  r.readInteger(o, "auth.", "defaultTtlMs", a.defaultTtlMs);
  r.readInteger(o, "auth.", "cleanupIntervalMs", a.cleanupIntervalMs);
}

void readServer(const ConfigReader& r, const json::object& o, ServerPolicy& s) {
  constexpr std::string_view p = "server.";
  r.readBool(o, p, "allowHostNetwork", s.allowHostNetwork);
  r.readBool(o, p, "allowFilteredNetwork", s.allowFilteredNetwork);
  r.readBool(o, p, "allowCustomSeccomp", s.allowCustomSeccomp);
  r.readBool(o, p, "allowPersist", s.allowPersist);
  r.readStringList(o, p, "allowedImages", s.allowedImages, {});
  auto optionalSize = [&](std::string_view key, std::optional<std::string>& out) {
    std::string value;
    r.readSize(o, p, key, value);
    if (!value.empty()) out = value;
  };
  auto optionalInteger = [&](std::string_view key, std::optional<std::int64_t>& out) {
    std::int64_t value = 0;
    r.readInteger(o, p, key, value);
    if (value > 0) out = value;
  };
  optionalSize("maxMemoryLimit", s.maxMemoryLimit);
  optionalSize("maxSandboxSize", s.maxSandboxSize);
  optionalSize("maxTmpSize", s.maxTmpSize);
  double cpu = 0;
  r.readPositiveNumber(o, p, "maxCpuLimit", cpu);
  if (cpu > 0) s.maxCpuLimit = cpu;
  optionalInteger("maxTimeoutMs", s.maxTimeoutMs);
  optionalInteger("maxPidsLimit", s.maxPidsLimit);
  optionalInteger("maxOutputSize", s.maxOutputSize);
  r.readInteger(o, p, "sseKeepAliveMs", s.sseKeepAliveMs);
  r.readInteger(o, p, "pruneIntervalMs", s.pruneIntervalMs);
  // The limits against starving the server: positive counts (the rate limit may be 0: off).
  constexpr std::pair<std::string_view, std::int64_t ServerPolicy::*> kLimits[] = {
      {"maxConnections", &ServerPolicy::maxConnections}, {"maxConnectionsPerIp", &ServerPolicy::maxConnectionsPerIp},
      {"headerTimeoutMs", &ServerPolicy::headerTimeoutMs}, {"maxEngines", &ServerPolicy::maxEngines},
      {"maxSessions", &ServerPolicy::maxSessions},         {"maxSessionsPerTenant", &ServerPolicy::maxSessionsPerTenant}};
  for (const auto& [key, member] : kLimits) r.readInteger(o, p, key, s.*member);
  r.readInteger(o, p, "rateLimitPerMinute", s.rateLimitPerMinute, 0);
  r.readSize(o, p, "maxBodySize", s.maxBodySize);
  r.readSize(o, p, "maxBodiesInFlight", s.maxBodiesInFlight);
  r.readInteger(o, p, "sweepIntervalMs", s.sweepIntervalMs);
  const auto runtimes = RuntimeRegistry::list();
  r.readStringList(o, p, "prewarm", s.prewarm, [&](const std::string& name, const std::string& item) {
    if (std::find(runtimes.begin(), runtimes.end(), item) == runtimes.end())
      r.fail(fmt::format("{} must be one of {}, got \"{}\"", name, joined(runtimes), item));
  });
}

std::vector<PrebuiltImage> readPrebuiltImages(const ConfigReader& r, const json::value& value) {
  if (!value.is_array()) r.fail("prebuiltImages must be a list of {\"tag\", \"runtime\", \"installPackages\"} objects");
  std::vector<PrebuiltImage> images;
  const auto runtimes = RuntimeRegistry::list();
  for (std::size_t i = 0; i < value.get_array().size(); ++i) {
    const std::string path = fmt::format("prebuiltImages[{}].", i);
    const auto& element = value.get_array()[i];
    if (!element.is_object()) r.fail(fmt::format("prebuiltImages[{}] must be an object", i));
    const auto& o = element.get_object();
    PrebuiltImage image;
    r.readString(o, path, "tag", image.tag);
    if (image.tag.empty() || image.tag.find_first_of(" \t\n") != std::string::npos)
      r.fail(fmt::format("{}tag must be an image tag such as \"my-python:latest\"", path));
    r.readString(o, path, "runtime", image.runtime);
    if (std::find(runtimes.begin(), runtimes.end(), image.runtime) == runtimes.end())
      r.fail(fmt::format("{}runtime must be one of {}, got \"{}\"", path, joined(runtimes), image.runtime));
    r.readStringList(o, path, "installPackages", image.installPackages, [&r](const std::string& name, const std::string& item) {
      try {
        detail::validatePackageName(item);
      } catch (const Error& e) {
        r.fail(fmt::format("{}: {}", name, e.message()));
      }
    });
    r.readOptionalString(o, path, "setupScript", image.setupScript);
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace

Config parseConfig(std::string_view text, std::string source) {
  const ConfigReader r(source);
  const json::value document = r.parse(text);
  if (!document.is_object()) r.fail("the top level must be a JSON object");
  const auto& root = document.get_object();

  Config config;
  config.source = std::move(source);
  r.readBool(root, "", "debug", config.debug);
  r.readInteger(root, "", "maxConcurrent", config.maxConcurrent);
  if (const auto* o = r.section(root, "defaults")) readDefaults(r, *o, config.defaults);
  if (const auto* o = r.section(root, "network")) readNetwork(r, *o, config.network, config.registries);
  if (const auto* o = r.section(root, "cleanup")) readCleanup(r, *o, config.cleanup);
  if (const auto* o = r.section(root, "docker")) r.readInteger(*o, "docker.", "timeoutMs", config.docker.timeoutMs);
  r.readEnum(root, "", "poolStrategy", config.poolStrategy, &parsePoolStrategy, "fast, secure");
  if (const auto* v = ConfigReader::field(root, "poolSize")) readPoolSize(r, *v, config.poolSize);
  if (const auto* o = r.section(root, "security")) readSecurity(r, *o, config.security);
  if (config.security.seccomp == SeccompMode::custom && config.security.customProfilePath.empty())
    r.fail("security.customProfilePath is required when security.seccomp is \"custom\"");
  if (const auto* o = r.section(root, "remoteCode")) readRemoteCode(r, *o, config.remoteCode);
  if (const auto* o = r.section(root, "audit")) readAudit(r, *o, config.audit);
  if (const auto* o = r.section(root, "auth")) readAuth(r, *o, config.auth);
  if (const auto* o = r.section(root, "server")) readServer(r, *o, config.server);
  if (const auto* v = ConfigReader::field(root, "prebuiltImages")) config.prebuiltImages = readPrebuiltImages(r, *v);
  return config;
}

}  // namespace isol8
