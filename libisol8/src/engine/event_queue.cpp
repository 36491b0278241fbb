#include "engine/event_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "isol8/execution_stream.hpp"

namespace isol8 {
namespace detail {

namespace asio = boost::asio;

EventQueue::EventQueue(asio::any_io_executor executor) : doorbell_(std::move(executor), 1) {}

void EventQueue::push(StreamEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  changed_.notify_all();
  doorbell_.try_send(boost::system::error_code{});
}

void EventQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  doorbell_.try_send(boost::system::error_code{});
}

void EventQueue::setResult(ExecutionResult result) {
  std::lock_guard lock(mutex_);
  result_ = std::move(result);
}

std::optional<ExecutionResult> EventQueue::result() {
  std::lock_guard lock(mutex_);
  return result_;
}

void EventQueue::onCancel(std::function<void()> handler) {
  std::unique_lock lock(mutex_);
  if (cancelled_ && !closed_) {
    lock.unlock();
    handler();
    return;
  }
  cancelHandler_ = std::move(handler);
}

void EventQueue::cancel() {
  std::function<void()> handler;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_ || closed_) {
      cancelled_ = true;
      return;
    }
    cancelled_ = true;
    handler = std::move(cancelHandler_);
  }
  if (handler) handler();
}

std::optional<StreamEvent> EventQueue::tryPop(bool& ended) {
  std::lock_guard lock(mutex_);
  ended = false;
  if (!events_.empty()) {
    auto event = std::move(events_.front());
    events_.pop_front();
    return event;
  }
  ended = closed_;
  return std::nullopt;
}

asio::awaitable<std::optional<StreamEvent>> EventQueue::next() {
  for (;;) {
    bool ended = false;
    if (auto event = tryPop(ended)) co_return event;
    if (ended) co_return std::nullopt;
    // A push between tryPop and here leaves a token in the doorbell, so nothing is missed.
    co_await doorbell_.async_receive(asio::as_tuple(asio::use_awaitable));
  }
}

std::optional<StreamEvent> EventQueue::nextBlocking() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !events_.empty() || closed_; });
  if (events_.empty()) return std::nullopt;
  auto event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace detail

ExecutionStream::ExecutionStream(std::shared_ptr<detail::EventQueue> queue) : queue_(std::move(queue)) {}
ExecutionStream::ExecutionStream(ExecutionStream&&) noexcept = default;
ExecutionStream& ExecutionStream::operator=(ExecutionStream&& other) noexcept {
  if (this != &other) {
    if (queue_) queue_->cancel();
    queue_ = std::move(other.queue_);
  }
  return *this;
}
ExecutionStream::~ExecutionStream() {
  if (queue_) queue_->cancel();
}

boost::asio::awaitable<std::optional<StreamEvent>> ExecutionStream::next() { return queue_->next(); }
std::optional<StreamEvent> ExecutionStream::nextBlocking() { return queue_->nextBlocking(); }
void ExecutionStream::cancel() { queue_->cancel(); }
std::optional<ExecutionResult> ExecutionStream::result() const { return queue_->result(); }

}  // namespace isol8
