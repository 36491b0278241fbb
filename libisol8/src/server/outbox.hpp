// The messages of one streaming connection (SSE or WebSocket) waiting to be written. The run
// pushes events, the connection's writer takes them one at a time; a writer that has waited
// `idle` without a message is told so (SSE then sends a keep-alive comment). The transport
// calls cancel() when the client goes away, which stops the run.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace isol8::server {

class Outbox {
 public:
  struct Idle {};
  struct Finished {
    int closeCode = 1000;  // WebSocket close frame
    std::string reason = "Execution complete";
  };
  using Item = std::variant<std::string, Idle, Finished>;

  explicit Outbox(boost::asio::any_io_executor executor)
      : doorbell_(std::move(executor), std::chrono::steady_clock::time_point::max()) {}

  void push(std::string message) {
    if (finished_) return;
    messages_.push_back(std::move(message));
    doorbell_.cancel();
  }
  // No messages after those queued; the writer then closes with `how`.
  void finish() { finish(Finished{}); }
  void finish(Finished how) {
    if (finished_) return;
    finished_ = std::move(how);
    doorbell_.cancel();
  }

  // The writer's side: the next message, Idle after `idle` without one, or Finished.
  boost::asio::awaitable<Item> next(std::chrono::milliseconds idle) {
    for (;;) {
      if (!messages_.empty()) {
        std::string message = std::move(messages_.front());
        messages_.pop_front();
        co_return message;
      }
      if (finished_) co_return *finished_;
      doorbell_.expires_after(idle);
      const auto [ec] = co_await doorbell_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      // ec: woken by push/finish (look again); none: `idle` passed in silence.
      if (!ec && messages_.empty() && !finished_) co_return Idle{};
    }
  }

  // The run registers how to stop it; the transport calls cancel() when the client is gone.
  void onCancel(std::function<void()> handler) {
    cancelHandler_ = std::move(handler);
    if (cancelled_ && cancelHandler_) cancelHandler_();
  }
  void cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    if (cancelHandler_) cancelHandler_();
  }
  bool cancelled() const { return cancelled_; }

 private:
  boost::asio::steady_timer doorbell_;
  std::deque<std::string> messages_;
  std::optional<Finished> finished_;
  std::function<void()> cancelHandler_;
  bool cancelled_ = false;
};

}  // namespace isol8::server
