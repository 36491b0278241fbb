#include "engine/filtered_network.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "engine/pool.hpp"
#include "isol8/error.hpp"
#include "network/egress_proxy.hpp"
#include "util/runtime_dir.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace fs = std::filesystem;

FilteredNetwork::FilteredNetwork(asio::any_io_executor executor, NetworkFilter policy, const std::string& engineId,
                                 Logger log)
    : proxy_(std::make_unique<EgressProxy>(std::move(executor), std::move(policy), EgressProxyLimits{}, std::move(log))),
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

void FilteredNetwork::allowHosts(const SandboxContainer& container, std::vector<std::string> hosts) {
  proxy_->allowHosts(container.key, std::move(hosts));
}

}  // namespace isol8::detail
