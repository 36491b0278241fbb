#include "engine/filtered_network.hpp"

#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "docker/docker_client.hpp"
#include "engine/pool.hpp"
#include "engine/process_runner.hpp"
#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "network/egress_proxy.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Where the per-container sockets live on the host. The Docker daemon bind-mounts from the
// same machine, so this only works with a local engine (unix:// DOCKER_HOST).
fs::path runtimeRoot() {
  if (::geteuid() == 0) return "/run/isol8";
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir) return fs::path(dir) / "isol8";
  return fs::temp_directory_path() / fmt::format("isol8-{}", ::geteuid());
}

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

asio::awaitable<void> FilteredNetwork::startRelay(const SandboxContainer& container, ProcessRunner& runner) {
  // As nobody: the sandbox user (uid 100) can neither kill it nor take over its port.
  json::object spec{
      {"AttachStdin", false},
      {"AttachStdout", false},
      {"AttachStderr", false},
      {"Tty", false},
      {"User", "65534:65534"},
      {"WorkingDir", "/"},
      {"Cmd", json::array{"socat", "-t", "5", "TCP-LISTEN:8118,bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:/run/isol8/proxy.sock"}},
  };
  const std::string execId = co_await docker_.createExec(container.id, spec);
  co_await docker_.startExecDetached(execId);
  // Ready when a connection to the port succeeds (bash's /dev/tcp, no tool needed).
  ProcessSpec probe;
  probe.containerId = container.id;
  probe.argv = {"bash", "-c",
                "for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/8118) 2>/dev/null && exit 0; sleep 0.01; done; exit 1"};
  probe.timeout = std::chrono::seconds(10);
  auto outcome = co_await runner.run(probe, {});
  if (outcome.exitCode != 0)
    throw Error(errc::docker_error,
                fmt::format("Proxy failed to start within timeout: the relay to the egress proxy (socat on "
                            "127.0.0.1:8118) does not answer in container {}. Make sure the image is built on "
                            "isol8:base with socat (rebuild with `isol8 setup --force`).",
                            container.id.substr(0, 12)));
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
  auto logs = proxy_->takeLogs(container.key);
  if (logNetwork) result.networkLogs = std::move(logs);
  result.securityEvents = proxy_->takeSecurityEvents(container.key);
}

asio::awaitable<std::vector<std::string>> FilteredNetwork::registryHosts(const SandboxContainer& container,
                                                                        const Runtime& runtime, ProcessRunner& runner) {
  ProcessSpec spec;
  spec.containerId = container.id;
  spec.argv = {"sh", "-c", registryQuery(runtime)};
  spec.timeout = std::chrono::seconds(20);
  std::string out;
  co_await runner.run(spec, [&](DockerStream s, std::string_view d) {
    if (s == DockerStream::stdout) out.append(d);
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
  co_return hosts;
}

void FilteredNetwork::allowHosts(const SandboxContainer& container, std::vector<std::string> hosts) {
  proxy_->allowHosts(container.key, std::move(hosts));
}

}  // namespace isol8::detail
