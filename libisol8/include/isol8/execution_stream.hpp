// ExecutionStream: the events of one run as they happen, consumed with co_await (`next`) or
// by blocking iteration (`for (const StreamEvent& e : stream)`). It is an asynchronous
// generator: the run produces events on the engine's executor, the consumer pulls them on
// its own. Output is bounded by maxOutputSize, so a slow consumer costs memory, not data.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "isol8/types.hpp"

namespace isol8 {

namespace detail {
class EventQueue;
}

class ExecutionStream {
 public:
  explicit ExecutionStream(std::shared_ptr<detail::EventQueue> queue);
  ExecutionStream(ExecutionStream&&) noexcept;
  ExecutionStream& operator=(ExecutionStream&&) noexcept;
  // Stops the run when it has not ended yet (its container is cleaned and reused).
  ~ExecutionStream();

  // The next event; nullopt after the last one (an `exit`). The awaiting coroutine's
  // io_context must outlive the engine (or the stream's end): the engine completes the wait.
  boost::asio::awaitable<std::optional<StreamEvent>> next();
  // The blocking twin of next().
  std::optional<StreamEvent> nextBlocking();
  // Stops the run; the stream then ends with an `error` and an `exit` event.
  void cancel();
  // After the last event: the run's whole result (output, files, networkLogs, ...); nullopt
  // when the run did not get that far (setup failure, error, cancel). RemoteIsol8: the
  // server's `result` event (docs/http-api.md); nullopt from a server that sends none.
  std::optional<ExecutionResult> result() const;

  class iterator {
   public:
    using value_type = StreamEvent;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(ExecutionStream* stream) : stream_(stream) { ++*this; }
    const StreamEvent& operator*() const { return *current_; }
    const StreamEvent* operator->() const { return &*current_; }
    iterator& operator++() {
      current_ = stream_->nextBlocking();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !current_; }

   private:
    ExecutionStream* stream_ = nullptr;
    std::optional<StreamEvent> current_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  std::shared_ptr<detail::EventQueue> queue_;
};

}  // namespace isol8
