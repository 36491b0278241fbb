#include "relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace isol8::supervisor {

namespace {
constexpr std::size_t kBuffer = 64 * 1024;  // per direction: a slow side stops the other
}

// One proxied connection: bytes client→upstream and upstream→client, each through a bounded
// buffer; a side's end of input is passed on as a half-close once its buffer is written.
struct Relay::Connection {
  int fd[2];  // 0: client (the sandbox), 1: upstream (the egress proxy)
  std::string pending[2];  // bytes read from side i, waiting to be written to the other side
  bool inputEnded[2] = {false, false};
  bool shutDown[2] = {false, false};  // write side of fd[i] shut down
  bool failed = false;

  ~Connection() {
    close(fd[0]);
    close(fd[1]);
  }
  bool finished() const { return failed || (shutDown[0] && shutDown[1]); }

  short events(int side) const {
    short e = 0;
    if (!inputEnded[side] && pending[side].size() < kBuffer) e |= POLLIN;
    if (!pending[1 - side].empty()) e |= POLLOUT;
    return e;
  }

  void pump(int side, short revents) {
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!inputEnded[side] && pending[side].size() < kBuffer) {
        char buffer[kBuffer];
        const ssize_t n = read(fd[side], buffer, kBuffer - pending[side].size());
        if (n > 0) pending[side].append(buffer, static_cast<std::size_t>(n));
        else if (n == 0) inputEnded[side] = true;
        else if (errno != EAGAIN && errno != EINTR) failed = true;
      } else if (revents & POLLERR) {
        failed = true;
      }
    }
    const int other = 1 - side;
    if ((revents & POLLOUT) && !pending[other].empty()) {
      const ssize_t n = send(fd[side], pending[other].data(), pending[other].size(), MSG_NOSIGNAL);
      if (n > 0) pending[other].erase(0, static_cast<std::size_t>(n));
      else if (n < 0 && errno != EAGAIN && errno != EINTR) failed = true;
    }
    for (int s = 0; s < 2; ++s) {
      if (inputEnded[1 - s] && pending[1 - s].empty() && !shutDown[s]) {
        shutdown(fd[s], SHUT_WR);
        shutDown[s] = true;
      }
    }
  }
};

Relay::Relay(std::string upstreamSocket) : upstream_(std::move(upstreamSocket)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw std::runtime_error(std::string("relay socket: ") + std::strerror(errno));
  const int on = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPort);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 64) != 0)
    throw std::runtime_error(std::string("relay listen on 127.0.0.1:8118: ") + std::strerror(errno));
}

Relay::~Relay() {
  connections_.clear();
  if (listener_ >= 0) close(listener_);
}

void Relay::addPollFds(std::vector<pollfd>& fds) const {
  fds.push_back(pollfd{listener_, POLLIN, 0});
  for (const auto& c : connections_) {
    fds.push_back(pollfd{c->fd[0], c->events(0), 0});
    fds.push_back(pollfd{c->fd[1], c->events(1), 0});
  }
}

void Relay::handle(const std::vector<pollfd>& fds) {
  // The same order addPollFds wrote them in: listener, then each connection's two sides.
  std::size_t i = 0;
  while (i < fds.size() && fds[i].fd != listener_) ++i;
  if (i == fds.size()) return;
  const bool incoming = fds[i].revents & POLLIN;
  ++i;
  for (std::size_t c = 0; c < connections_.size() && i + 1 < fds.size(); ++c, i += 2) {
    if (fds[i].revents) connections_[c]->pump(0, fds[i].revents);
    if (fds[i + 1].revents) connections_[c]->pump(1, fds[i + 1].revents);
  }
  std::erase_if(connections_, [](const auto& c) { return c->finished(); });
  if (incoming) accept();
}

void Relay::accept() {
  for (;;) {
    const int client = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return;
    if (connections_.size() >= kMaxConnections) {
      close(client);  // over the cap: refused, the relay itself stays up
      continue;
    }
    const int up = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, upstream_.c_str(), sizeof addr.sun_path - 1);
    // A unix socket connects at once or not at all.
    if (up < 0 || connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (up >= 0) close(up);
      close(client);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd[0] = client;
    connection->fd[1] = up;
    connections_.push_back(std::move(connection));
  }
}

void Relay::closeAll() { connections_.clear(); }

}  // namespace isol8::supervisor
