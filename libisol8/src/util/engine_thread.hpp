// The thread an engine (DockerIsol8, RemoteIsol8) does its work on: an io_context kept alive
// by a work guard, run by one thread that the owner starts once everything the thread may
// touch exists, and joins before those things are destroyed.
#pragma once

#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace isol8::detail {

class EngineThread {
 public:
  EngineThread() = default;
  ~EngineThread() { join(); }
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  boost::asio::io_context& context() { return context_; }
  void start() { thread_ = std::thread([this] { context_.run(); }); }
  // Lets the work in flight finish, then waits for the thread.
  void join() {
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }
  // Runs `operation` on the engine's thread and blocks the caller until it is done.
  template <typename T>
  T run(boost::asio::awaitable<T> operation) {
    return boost::asio::co_spawn(context_, std::move(operation), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{context_.get_executor()};
  std::thread thread_;
};

}  // namespace isol8::detail
