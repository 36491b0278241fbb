// maxConcurrent: a counting semaphore for coroutines on one executor (the engine's). Waiters
// are served first come, first served; a permit is handed straight to the next waiter.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace isol8::detail {

class AsyncSemaphore {
 public:
  // Returned by acquire(); gives the permit back when destroyed.
  class Permit {
   public:
    Permit() = default;
    explicit Permit(AsyncSemaphore* owner) : owner_(owner) {}
    Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Permit& operator=(Permit&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
      }
      return *this;
    }
    ~Permit() { reset(); }
    void reset() {
      if (owner_) std::exchange(owner_, nullptr)->release();
    }

   private:
    AsyncSemaphore* owner_ = nullptr;
  };

  explicit AsyncSemaphore(int permits) : available_(permits) {}

  boost::asio::awaitable<Permit> acquire() {
    if (available_ > 0 && waiters_.empty()) {
      --available_;
      co_return Permit(this);
    }
    auto waiter = std::make_shared<Waiter>(co_await boost::asio::this_coro::executor);
    waiters_.push_back(waiter);
    co_await waiter->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return Permit(this);  // release() handed its permit to us
  }

  int available() const { return available_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : timer(ex, std::chrono::steady_clock::time_point::max()) {}
    boost::asio::steady_timer timer;
  };

  void release() {
    if (waiters_.empty()) {
      ++available_;
      return;
    }
    auto next = waiters_.front();
    waiters_.pop_front();
    next->timer.cancel();  // wakes it; the permit passes on without touching available_
  }

  int available_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace isol8::detail
