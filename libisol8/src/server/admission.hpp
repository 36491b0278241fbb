// Counted admission for what a client can make the server hold: open connections (in total
// and per client address) and request bodies in memory (bytes, across connections). Each grant
// is a move-only ticket that gives its share back when destroyed, so a connection that ends in
// any way (error, timeout, exception) returns what it held. Pure logic, on the server's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace isol8::server {

// A share taken from a counter; returned by the destructor.
class Ticket {
 public:
  Ticket() = default;
  Ticket(std::function<void()> giveBack) : giveBack_(std::move(giveBack)) {}
  Ticket(Ticket&& other) noexcept : giveBack_(std::exchange(other.giveBack_, nullptr)) {}
  Ticket& operator=(Ticket&& other) noexcept {
    std::swap(giveBack_, other.giveBack_);
    return *this;
  }
  ~Ticket() {
    if (giveBack_) giveBack_();
  }

 private:
  std::function<void()> giveBack_;
};

// server.maxConnections and server.maxConnectionsPerIp.
class ConnectionLimiter {
 public:
  ConnectionLimiter(std::uint64_t total, std::uint64_t perAddress) : total_(total), perAddress_(perAddress) {}
  // A ticket for one more connection from `address`; nullopt when either cap is reached.
  std::optional<Ticket> admit(const std::string& address);
  std::uint64_t open() const { return open_; }

 private:
  std::uint64_t total_;
  std::uint64_t perAddress_;
  std::uint64_t open_ = 0;
  std::unordered_map<std::string, std::uint64_t> byAddress_;  // only addresses with a connection
};

// server.maxBodiesInFlight: bytes of request bodies the server holds at once.
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t capacity) : capacity_(capacity) {}
  // A ticket for `bytes` more; nullopt when they do not fit.
  std::optional<Ticket> take(std::uint64_t bytes);
  std::uint64_t used() const { return used_; }

 private:
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
};

}  // namespace isol8::server
