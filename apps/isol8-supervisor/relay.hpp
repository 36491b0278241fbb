// Filtered networking, inside the container: 127.0.0.1:8118 (where HTTP(S)_PROXY point)
// relayed to the engine's egress proxy at /run/isol8/proxy.sock. It lives in the supervisor,
// so it takes no process from the code's pids budget, cannot be killed by the code, and a run
// that hogs it loses its connections when the request ends.
#pragma once

#include <poll.h>

#include <memory>
#include <string>
#include <vector>

namespace isol8::supervisor {

class Relay {
 public:
  static constexpr int kPort = 8118;
  static constexpr std::size_t kMaxConnections = 128;

  // Listens at once; throws std::runtime_error when it cannot.
  explicit Relay(std::string upstreamSocket);
  ~Relay();

  // Adds the fds to watch; handle() is then called with the same vector after poll().
  void addPollFds(std::vector<pollfd>& fds) const;
  void handle(const std::vector<pollfd>& fds);
  // Drops every open connection (the request they belong to has ended).
  void closeAll();

 private:
  struct Connection;
  void accept();
  std::string upstream_;
  int listener_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace isol8::supervisor
