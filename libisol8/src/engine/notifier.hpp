// "Something changed, look again": wakes every coroutine waiting on the engine's executor.
// Single-threaded; waiters re-check their condition in a loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace isol8::detail {

class ChangeNotifier {
 public:
  boost::asio::awaitable<void> wait() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::steady_clock::time_point::max());
    waiters_.push_back(&timer);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    std::erase(waiters_, &timer);
  }
  void notify() {
    for (auto* timer : waiters_) timer->cancel();
  }

 private:
  std::vector<boost::asio::steady_timer*> waiters_;
};

}  // namespace isol8::detail
