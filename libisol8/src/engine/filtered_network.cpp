#include "engine/filtered_network.hpp"

#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "docker/docker_client.hpp"
#include "engine/pool.hpp"
#include "engine/supervisor_channel.hpp"
#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "network/egress_proxy.hpp"
#include "util/log.hpp"
#include "util/runtime_dir.hpp"
#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// "https://registry.npmjs.org/" → "registry.npmjs.org"; "" when it is not a URL.
std::string hostOfUrl(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

// Prints the registry URL(s) the runtime's package manager is configured with.
std::string registryQuery(const Runtime& runtime) {
  if (runtime.name == "python")
    return R"(echo "${PIP_INDEX_URL:-$(pip config get global.index-url 2>/dev/null || echo https://pypi.org/simple/)}")";
  if (runtime.name == "node") return "npm config get registry";
  // bun and deno read the npm registry from the same places npm does.
  return R"(r="${NPM_CONFIG_REGISTRY:-$(sed -n 's/^registry *= *//p' "$HOME/.npmrc" 2>/dev/null | tail -n1)}"; )"
         R"(echo "${r:-https://registry.npmjs.org/}")";
}

}  // namespace

FilteredNetwork::FilteredNetwork(asio::any_io_executor executor, DockerClient& docker, NetworkFilter policy,
                                 const std::string& engineId)
    : docker_(docker),
      proxy_(std::make_unique<EgressProxy>(std::move(executor), std::move(policy))),
      root_(runtimeRoot() / engineId) {}

FilteredNetwork::~FilteredNetwork() {
  proxy_->closeAll();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string FilteredNetwork::socketDirFor(const SandboxContainer& container) {
  const fs::path dir = root_ / container.key;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(errc::io_error, fmt::format("Cannot create {} for the egress proxy: {}", dir.string(), ec.message()));
  // Anyone may traverse to the socket (the relay runs as nobody); only we can change it.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  fs::permissions(root_.parent_path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  proxy_->listen((dir / "proxy.sock").string(), container.key);
  return dir.string();
}

void FilteredNetwork::forget(const SandboxContainer& container) {
  if (container.key.empty()) return;
  proxy_->close(container.key);
  std::error_code ec;
  fs::remove_all(root_ / container.key, ec);
}

void FilteredNetwork::beginRun(const SandboxContainer& container) {
  proxy_->takeLogs(container.key);
  proxy_->takeSecurityEvents(container.key);
}

void FilteredNetwork::endRun(const SandboxContainer& container, ExecutionResult& result, bool logNetwork) {
  // A plain-HTTP request is logged when its connection ends; the client may have exited before
  // the relay's close reached us.
  proxy_->closeConnections(container.key);
  auto logs = proxy_->takeLogs(container.key);
  if (logNetwork) result.networkLogs = std::move(logs);
  result.securityEvents = proxy_->takeSecurityEvents(container.key);
}

asio::awaitable<std::vector<std::string>> FilteredNetwork::registryHosts(const SandboxContainer& container,
                                                                        const Runtime& runtime) {
  if (auto it = registryHostsByImage_.find(container.image); it != registryHostsByImage_.end()) co_return it->second;
  StepSpec spec;
  spec.argv = {"/bin/sh", "-c", registryQuery(runtime)};
  spec.env = {"HOME=/nonexistent", "PATH=/usr/local/bin:/usr/bin:/bin"};
  spec.cwd = "/";
  spec.timeout = std::chrono::seconds(20);
  spec.outputLimit = 4096;
  std::string out;
  const auto outcome = co_await container.supervisor->run(spec, [&](supervisor::OutputStream s, std::string_view d) {
    if (s == supervisor::OutputStream::stdout_stream) out.append(d);
  });
  std::vector<std::string> hosts;
  for (const auto& line : split(out, '\n')) {
    auto host = hostOfUrl(trim(line));
    if (host.empty()) continue;
    // PyPI's index links its files on a second host.
    if (host == "pypi.org") hosts.push_back("files.pythonhosted.org");
    hosts.push_back(std::move(host));
  }
  debugLog("package registry hosts for {}: {}", runtime.name, fmt::join(hosts, ", "));
  if (outcome.exitCode == 0) registryHostsByImage_[container.image] = hosts;
  co_return hosts;
}

void FilteredNetwork::allowHosts(const SandboxContainer& container, std::vector<std::string> hosts) {
  proxy_->allowHosts(container.key, std::move(hosts));
}

}  // namespace isol8::detail
