#include "server/policy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/request_validation.hpp"
#include "isol8/error.hpp"
#include "server/http_types.hpp"

namespace isol8::server {

namespace {

// The first violation found, in the order of the fields.
class PolicyCheck {
 public:
  void notAllowed(bool asked, std::string_view what) {
    if (asked && !violation) violation = fmt::format("{} is not allowed by this server", what);
  }

  // A size option ("512m") against its maximum (config value or the server's default).
  void size(const std::optional<std::string>& asked, std::string_view name, const std::optional<std::string>& maximum,
            const std::string& fallback) {
    if (!asked || violation) return;
    const std::string& max = maximum ? *maximum : fallback;
    if (detail::parseSize(*asked, name) > detail::parseSize(max, name))
      violation = fmt::format("options.{} \"{}\" exceeds this server's maximum of \"{}\"", name, *asked, max);
  }

  template <typename Number>
  void number(const std::optional<Number>& asked, std::string_view name, const std::optional<Number>& maximum,
              Number fallback) {
    if (!asked || violation) return;
    const Number max = maximum ? *maximum : fallback;
    if (*asked > max) violation = fmt::format("{} {} exceeds this server's maximum of {}", name, *asked, max);
  }

  std::optional<std::string> violation;
};

}  // namespace

std::optional<std::string> policyViolation(const Config& config, const wire::ClientOptions& options,
                                           const ExecutionRequest& request) {
  const ServerPolicy& policy = config.server;
  const EngineOptions engineDefaults;
  PolicyCheck check;
  check.notAllowed(options.network == NetworkMode::host && !policy.allowHostNetwork, "options.network \"host\"");
  // Filtered is a widening only of a server whose own network is none with no whitelist.
  const bool serverOpensNetwork = config.defaults.network != NetworkMode::none || !config.network.whitelist.empty();
  check.notAllowed(options.network == NetworkMode::filtered && !serverOpensNetwork && !policy.allowFilteredNetwork,
                   "options.network \"filtered\"");
  if (options.seccomp && *options.seccomp != SeccompMode::strict)
    check.notAllowed(!policy.allowCustomSeccomp, fmt::format("options.security.seccomp \"{}\"", toString(*options.seccomp)));
  check.notAllowed(options.customProfilePath && !options.customProfilePath->empty() && !policy.allowCustomSeccomp,
                   "options.security.customProfilePath");
  if (options.image && !options.image->empty()) {
    const auto& allowed = policy.allowedImages;
    check.notAllowed(std::find(allowed.begin(), allowed.end(), *options.image) == allowed.end(),
                     fmt::format("options.image \"{}\"", *options.image));
  }
  check.notAllowed(options.persist == true && !policy.allowPersist, "options.persist");
  if (options.readonlyRootFs == false && !check.violation)
    check.violation = "options.readonlyRootFs false is not supported: the root filesystem is always read-only";
  if (options.networkFilter) {
    // A server whitelist bounds the client's: only its own patterns may be chosen.
    const auto& serverHosts = config.network.whitelist;
    if (!serverHosts.empty())
      for (const auto& pattern : options.networkFilter->whitelist)
        check.notAllowed(std::find(serverHosts.begin(), serverHosts.end(), pattern) == serverHosts.end(),
                         fmt::format("options.networkFilter.whitelist \"{}\"", pattern));
    const auto& serverAddresses = config.network.allowedAddresses;
    for (const auto& range : options.networkFilter->allowedAddresses)
      check.notAllowed(std::find(serverAddresses.begin(), serverAddresses.end(), range) == serverAddresses.end(),
                       fmt::format("options.networkFilter.allowedAddresses \"{}\"", range));
  }
  check.size(options.memoryLimit, "memoryLimit", policy.maxMemoryLimit, config.defaults.memoryLimit);
  check.size(options.sandboxSize, "sandboxSize", policy.maxSandboxSize, config.defaults.sandboxSize);
  check.size(options.tmpSize, "tmpSize", policy.maxTmpSize, config.defaults.tmpSize);
  check.number(options.cpuLimit, "options.cpuLimit", policy.maxCpuLimit, config.defaults.cpuLimit);
  check.number(options.timeoutMs, "options.timeoutMs", policy.maxTimeoutMs, config.defaults.timeoutMs);
  check.number(request.timeoutMs, "request.timeoutMs", policy.maxTimeoutMs, config.defaults.timeoutMs);
  check.number(options.pidsLimit, "options.pidsLimit", policy.maxPidsLimit, engineDefaults.pidsLimit);
  check.number(options.maxOutputSize, "options.maxOutputSize", policy.maxOutputSize, engineDefaults.maxOutputSize);
  return check.violation;
}

EngineOptions requestEngineOptions(const Config& config, wire::ClientOptions options) {
  EngineOptions result = engineOptionsFrom(config);
  options.debug.reset();
  std::optional<NetworkFilter> clientFilter = std::move(options.networkFilter);
  options.networkFilter.reset();
  wire::applyClientOptions(options, result);
  if (clientFilter) {
    // Deny first: the server's blacklist, then the client's. The client's whitelist replaces
    // the server's: policyViolation made sure it is a subset of it (or the server has none).
    NetworkFilter filter = config.network;
    if (!clientFilter->whitelist.empty()) filter.whitelist = clientFilter->whitelist;
    filter.blacklist.insert(filter.blacklist.end(), clientFilter->blacklist.begin(), clientFilter->blacklist.end());
    filter.allowedAddresses = clientFilter->allowedAddresses.empty() ? config.network.allowedAddresses
                                                                     : clientFilter->allowedAddresses;
    result.networkFilter = std::move(filter);
  }
  return result;
}

wire::ExecuteBody checkedExecuteBody(const Config& config, const boost::json::value& envelope) {
  wire::ExecuteBody body;
  std::optional<std::string> violation;
  try {
    body = wire::executeBodyFromJson(envelope);
    // Checked here, not only by the engine, so that a stream refuses a bad request with a 400
    // before it starts, as POST /execute does.
    detail::validateRequest(body.request);
    // Throws too, for a size option that is not a size ("25m6"): the client's mistake.
    violation = policyViolation(config, body.options, body.request);
  } catch (const Error& e) {
    throw HttpError(400, e.message());
  }
  if (violation) throw HttpError(403, *violation);
  // Folded, this keeps such runs on the shared warm engine.
  if (body.options.timeoutMs) {
    if (!body.request.timeoutMs) body.request.timeoutMs = body.options.timeoutMs;
    body.options.timeoutMs.reset();
  }
  return body;
}

}  // namespace isol8::server
