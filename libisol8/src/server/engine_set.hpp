// The server's engines for ephemeral runs. One engine, with the server's options, serves every
// request that does not change them, so all such requests share one warm pool (the original
// built an engine per request). A request whose `options` change container settings (limits,
// network, secrets, ...) gets an engine for that option set, kept for the next request that
// asks the same; at most server.maxEngines are kept, the least recently used idle one goes
// first, and while all of them are busy a new option set gets none.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "isol8/docker_isol8.hpp"
#include "isol8/options.hpp"

namespace isol8::server {

class EngineSet {
 public:
  EngineSet(boost::asio::any_io_executor executor, EngineOptions serverOptions, std::size_t maxEngines);

  // The server's own engine: what a request without `options` runs on.
  const std::shared_ptr<DockerIsol8>& serverEngine() const { return serverEngine_; }
  // The engine for runs with these options (created on first use); null when that would
  // take one engine more than maxEngines because every one is in use.
  std::shared_ptr<DockerIsol8> forOptions(const EngineOptions& options);
  // Starts the server's own engine and fills the pools of `runtimes`, one after the other.
  boost::asio::awaitable<void> asyncStart(std::vector<std::string> runtimes);
  // Stops every engine: their containers are removed.
  boost::asio::awaitable<void> asyncStop();
  // engineId() of every engine kept now.
  std::vector<std::string> engineIds() const;

 private:
  struct Entry {
    std::string key;  // the options as JSON text
    std::shared_ptr<DockerIsol8> engine;
  };
  static std::string keyOf(const EngineOptions& options);

  boost::asio::any_io_executor executor_;
  std::size_t maxEngines_;
  std::string serverKey_;
  std::shared_ptr<DockerIsol8> serverEngine_;
  std::list<Entry> others_;  // most recently used first
  bool stopping_ = false;
};

}  // namespace isol8::server
