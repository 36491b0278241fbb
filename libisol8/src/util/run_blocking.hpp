// Runs a coroutine to completion on a private io_context: the blocking twins of the async API.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace isol8::detail {

template <typename T>
T runBlocking(boost::asio::awaitable<T> operation) {
  boost::asio::io_context context;
  auto future = boost::asio::co_spawn(context, std::move(operation), boost::asio::use_future);
  context.run();
  return future.get();
}

}  // namespace isol8::detail
