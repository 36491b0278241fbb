// The queue between a streamed run (producer, on the engine's executor) and its consumer (any
// thread or executor). Unbounded on purpose: output is capped per stream by maxOutputSize, so
// the producer never waits for a slow consumer and the run's timing does not depend on it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include "isol8/types.hpp"

namespace isol8::detail {

class EventQueue {
 public:
  explicit EventQueue(boost::asio::any_io_executor executor);

  // Producer side.
  void push(StreamEvent event);
  void close();  // after the last event
  void setResult(ExecutionResult result);  // before close(), when the run got that far
  // Called (once, from the consumer's thread) when the consumer cancels or goes away.
  void onCancel(std::function<void()> handler);

  // Consumer side.
  boost::asio::awaitable<std::optional<StreamEvent>> next();
  std::optional<StreamEvent> nextBlocking();
  void cancel();
  std::optional<ExecutionResult> result();

 private:
  std::optional<StreamEvent> tryPop(bool& ended);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<StreamEvent> events_;
  std::optional<ExecutionResult> result_;
  bool closed_ = false;
  bool cancelled_ = false;
  std::function<void()> cancelHandler_;
  // Wakes an awaiting consumer; one pending token is enough, the consumer drains the queue.
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> doorbell_;
};

}  // namespace isol8::detail
