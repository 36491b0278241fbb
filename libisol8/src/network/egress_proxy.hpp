// isol8's egress proxy for filtered network mode. A sandbox has no network of its own; a relay
// inside it forwards 127.0.0.1:8118 to a unix socket the proxy listens on (one per container, so
// every request is attributed to the container that made it). The proxy accepts CONNECT and
// absolute-URI HTTP requests, decides by host name (HostPolicy), resolves the name itself,
// refuses it when any address is private, loopback, link-local, metadata... (AddressPolicy) and
// then connects to exactly the addresses it checked: a second resolution could answer
// differently (DNS rebinding).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "isol8/network_policy.hpp"
#include "isol8/types.hpp"
#include "util/log.hpp"

namespace isol8::detail {

struct EgressProxyLimits {
  std::size_t maxHeadBytes = 64 * 1024;              // request line and headers
  std::chrono::milliseconds headTimeout{30'000};     // to receive them
  std::chrono::milliseconds connectTimeout{10'000};  // name resolution and TCP connect
  std::chrono::milliseconds idleTimeout{300'000};    // a relay with no byte either way
  std::size_t maxConnections = 256;                  // per listener, at once
  std::size_t maxRecords = 10'000;                   // log entries (and events) kept per listener until taken
};

class EgressProxy {
 public:
  using Limits = EgressProxyLimits;

  // Throws isol8::Error(invalid_request) for an invalid pattern or allowedAddresses entry.
  EgressProxy(boost::asio::any_io_executor executor, NetworkFilter policy, Limits limits = {}, Logger log = {});
  ~EgressProxy();  // closeAll()
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  // Listens on a new unix socket at `socketPath` (its directory exists; a stale socket there is
  // replaced; mode 0666). `listenerId` names it in the calls below. Throws isol8::Error
  // (invalid_request for an id in use, io_error when the socket cannot be made).
  void listen(const std::string& socketPath, const std::string& listenerId);
  // Stops accepting, closes the listener's open connections (their log entries are recorded at
  // once) and removes the socket file. Its logs and events stay until taken. Unknown ids: no-op.
  void close(const std::string& listenerId);
  void closeAll();
  // Closes the listener's open connections (their log entries are recorded at once) and keeps
  // accepting: a run is over, and what it left open must neither outlive it nor miss its log.
  void closeConnections(const std::string& listenerId);

  // The listener's records so far, oldest first; taking clears them. Unknown ids: empty.
  // Lets these host names through on one listener although the allow list does not name
  // them (the deny list and the address rules still apply); an empty list ends that. What an
  // install step gets for the package registry.
  void allowHosts(const std::string& listenerId, std::vector<std::string> hosts);

  std::vector<NetworkLogEntry> takeLogs(const std::string& listenerId);
  std::vector<SecurityEvent> takeSecurityEvents(const std::string& listenerId);

  struct State;  // shared with the connections' coroutines

 private:
  std::shared_ptr<State> state_;
};

}  // namespace isol8::detail
