// toJson: the configuration as `isol8 config --json` prints it, in the order of the docs.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "isol8/config.hpp"
#include "util/pretty_json.hpp"

namespace isol8 {

namespace json = boost::json;

namespace {

json::array stringList(const std::vector<std::string>& items) {
  json::array array;
  for (const auto& item : items) array.emplace_back(item);
  return array;
}

template <typename T>
void putIfSet(json::object& object, std::string_view key, const std::optional<T>& value) {
  if (value) object[key] = *value;
}

}  // namespace

std::string toJson(const Config& c) {
  json::object root;
  root["debug"] = c.debug;
  root["maxConcurrent"] = c.maxConcurrent;

  json::object defaults;
  defaults["timeoutMs"] = c.defaults.timeoutMs;
  defaults["memoryLimit"] = c.defaults.memoryLimit;
  defaults["cpuLimit"] = c.defaults.cpuLimit;
  defaults["network"] = toString(c.defaults.network);
  defaults["sandboxSize"] = c.defaults.sandboxSize;
  defaults["tmpSize"] = c.defaults.tmpSize;
  defaults["readonlyRootFs"] = c.defaults.readonlyRootFs;
  defaults["maxFileSize"] = c.defaults.maxFileSize;
  root["defaults"] = std::move(defaults);

  json::object registries;
  for (const auto& [runtime, hosts] : c.registries) registries[runtime] = stringList(hosts);
  root["network"] = json::object{{"whitelist", stringList(c.network.whitelist)},
                                 {"blacklist", stringList(c.network.blacklist)},
                                 {"allowedAddresses", stringList(c.network.allowedAddresses)},
                                 {"registries", std::move(registries)}};
  root["cleanup"] = json::object{{"autoPrune", c.cleanup.autoPrune},
                                 {"maxContainerAgeMs", c.cleanup.maxContainerAgeMs},
                                 {"removalRetryMs", c.cleanup.removalRetryMs},
                                 {"removalRetryMaxMs", c.cleanup.removalRetryMaxMs}};
  root["docker"] = json::object{{"timeoutMs", c.docker.timeoutMs}};
  root["poolStrategy"] = toString(c.poolStrategy);
  root["poolSize"] = json::object{{"clean", c.poolSize.clean}, {"dirty", c.poolSize.dirty}};

  json::object security;
  security["seccomp"] = toString(c.security.seccomp);
  if (!c.security.customProfilePath.empty()) security["customProfilePath"] = c.security.customProfilePath;
  root["security"] = std::move(security);

  json::object remote;
  remote["enabled"] = c.remoteCode.enabled;
  remote["allowedSchemes"] = stringList(c.remoteCode.allowedSchemes);
  remote["allowedHosts"] = stringList(c.remoteCode.allowedHosts);
  remote["blockedHosts"] = stringList(c.remoteCode.blockedHosts);
  remote["allowedAddresses"] = stringList(c.remoteCode.allowedAddresses);
  remote["maxCodeSize"] = c.remoteCode.maxCodeSize;
  remote["fetchTimeoutMs"] = c.remoteCode.fetchTimeoutMs;
  remote["requireHash"] = c.remoteCode.requireHash;
  remote["enableCache"] = c.remoteCode.enableCache;
  remote["cacheTtl"] = c.remoteCode.cacheTtl;
  root["remoteCode"] = std::move(remote);

  json::object audit;
  audit["enabled"] = c.audit.enabled;
  audit["destination"] = c.audit.destination;
  putIfSet(audit, "logDir", c.audit.logDir);
  putIfSet(audit, "postLogScript", c.audit.postLogScript);
  audit["trackResources"] = c.audit.trackResources;
  audit["retentionDays"] = c.audit.retentionDays;
  audit["includeCode"] = c.audit.includeCode;
  audit["includeOutput"] = c.audit.includeOutput;
  root["audit"] = std::move(audit);

  json::object auth;
  auth["enabled"] = c.auth.enabled;
  putIfSet(auth, "connectionString", c.auth.connectionString);
  auth["defaultTtlMs"] = c.auth.defaultTtlMs;
  auth["cleanupIntervalMs"] = c.auth.cleanupIntervalMs;
  root["auth"] = std::move(auth);

  json::object server;
  server["allowHostNetwork"] = c.server.allowHostNetwork;
  server["allowFilteredNetwork"] = c.server.allowFilteredNetwork;
  server["allowCustomSeccomp"] = c.server.allowCustomSeccomp;
  server["allowPersist"] = c.server.allowPersist;
  server["allowedImages"] = stringList(c.server.allowedImages);
  putIfSet(server, "maxMemoryLimit", c.server.maxMemoryLimit);
  putIfSet(server, "maxCpuLimit", c.server.maxCpuLimit);
  putIfSet(server, "maxTimeoutMs", c.server.maxTimeoutMs);
  putIfSet(server, "maxPidsLimit", c.server.maxPidsLimit);
  putIfSet(server, "maxOutputSize", c.server.maxOutputSize);
  putIfSet(server, "maxSandboxSize", c.server.maxSandboxSize);
  putIfSet(server, "maxTmpSize", c.server.maxTmpSize);
  server["sseKeepAliveMs"] = c.server.sseKeepAliveMs;
  server["pruneIntervalMs"] = c.server.pruneIntervalMs;
  server["maxConnections"] = c.server.maxConnections;
  server["maxConnectionsPerIp"] = c.server.maxConnectionsPerIp;
  server["headerTimeoutMs"] = c.server.headerTimeoutMs;
  server["maxBodySize"] = c.server.maxBodySize;
  server["maxBodiesInFlight"] = c.server.maxBodiesInFlight;
  server["maxEngines"] = c.server.maxEngines;
  server["maxSessions"] = c.server.maxSessions;
  server["maxSessionsPerTenant"] = c.server.maxSessionsPerTenant;
  server["rateLimitPerMinute"] = c.server.rateLimitPerMinute;
  server["sweepIntervalMs"] = c.server.sweepIntervalMs;
  server["prewarm"] = stringList(c.server.prewarm);
  root["server"] = std::move(server);

  json::array images;
  for (const auto& image : c.prebuiltImages) {
    json::object o{{"tag", image.tag}, {"runtime", image.runtime}, {"installPackages", stringList(image.installPackages)}};
    putIfSet(o, "setupScript", image.setupScript);
    images.push_back(std::move(o));
  }
  root["prebuiltImages"] = std::move(images);

  return detail::prettyJson(root);
}

}  // namespace isol8
