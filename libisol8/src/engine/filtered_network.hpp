// Filtered networking, container side. A filtered sandbox keeps Docker's network mode `none`
// (only loopback: no route out, no DNS, no host services). Each container gets its own unix
// socket from the engine's egress proxy, bind-mounted read-only at /run/isol8/proxy.sock; the
// container's supervisor relays 127.0.0.1:8118 there (in its own process: the code cannot
// kill it or starve it of pids), and HTTP(S)_PROXY point at it. The proxy decides
// per request and knows which container asked, so logs belong to the run that made them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "isol8/network_policy.hpp"
#include "isol8/types.hpp"
#include "util/log.hpp"

namespace isol8::detail {

class EgressProxy;
struct SandboxContainer;

inline constexpr const char* kProxyAddress = "http://127.0.0.1:8118";

class FilteredNetwork {
 public:
  FilteredNetwork(boost::asio::any_io_executor executor, NetworkFilter policy, const std::string& engineId, Logger log);
  ~FilteredNetwork();

  // The host directory to mount at /run/isol8 for a new container (its socket is listening).
  std::string socketDirFor(const SandboxContainer& container);
  // The container is gone: close its socket.
  void forget(const SandboxContainer& container);

  // Per run: drop what a previous run left, then collect this run's logs and blocks.
  void beginRun(const SandboxContainer& container);
  void endRun(const SandboxContainer& container, ExecutionResult& result, bool logNetwork);

  // Lets these exact host names through (deny list still first) until cleared: installs only,
  // with the runtime's registries from the engine's options (never asked of the container,
  // whose package manager configuration the image or an earlier run may have chosen).
  void allowHosts(const SandboxContainer& container, std::vector<std::string> hosts);

 private:
  std::unique_ptr<EgressProxy> proxy_;
  std::filesystem::path root_;  // <runtime dir>/isol8/<engineId>
};

}  // namespace isol8::detail
