// The warm pool: started, hardened containers per image, ready to run code, and the hygiene
// that makes a used container fit for the next run (every sandbox-user process killed,
// /sandbox and /tmp emptied, whatever the seccomp mode). A container that cannot be cleaned,
// or has served maxReuse runs, is destroyed and replaced.
//
// fast:   a released container is cleaned in the background at once; acquire takes a clean one.
// secure: a released container waits dirty and is cleaned right before it is handed out.
//
// Runs on the engine's executor only (no locks).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "engine/notifier.hpp"
#include "isol8/options.hpp"

namespace isol8::detail {

class DockerClient;
class ProcessRunner;

struct SandboxContainer {
  std::string id;
  std::string image;
  std::string key;     // random name given at creation (names its egress-proxy socket)
  int runs = 0;        // runs served so far
  long oomKills = 0;   // the memory cgroup's oom_kill counter after the last cleaning
};

class ContainerPool {
 public:
  struct Settings {
    PoolStrategy strategy = PoolStrategy::fast;
    PoolSize size;
    int maxReuse = 100;
  };
  // What the engine adds to a container's life (filtered mode: the egress-proxy socket).
  struct Lifecycle {
    // The body of POST /containers/create.
    std::function<boost::json::object(const SandboxContainer&)> spec;
    // After start, before first use; may throw (the container is then removed).
    std::function<boost::asio::awaitable<void>(const SandboxContainer&)> prepare;
    // After removal.
    std::function<void(const SandboxContainer&)> removed;
  };

  ContainerPool(boost::asio::any_io_executor executor, DockerClient& docker, ProcessRunner& runner, Settings settings,
                Lifecycle lifecycle);

  // A clean, started container of `image` (created when none is ready).
  boost::asio::awaitable<SandboxContainer> acquire(const std::string& image);
  // Hands a container back after a run. Not reusable (the run broke it): destroyed.
  void release(SandboxContainer container, bool reusable);
  // Fills the pool of `image` to its clean size.
  boost::asio::awaitable<void> prewarm(const std::string& image);
  // Removes every pooled container and waits for background work; later releases destroy.
  boost::asio::awaitable<void> drain();

  // A started container outside the pool (persistent mode), and its removal.
  boost::asio::awaitable<SandboxContainer> create(const std::string& image);
  boost::asio::awaitable<void> destroy(SandboxContainer container);
  // The hygiene run; false when the container could not be cleaned.
  boost::asio::awaitable<bool> clean(SandboxContainer& container);

  // The memory cgroup's oom_kill counter now (-1 if unreadable); it only grows, so a run's OOM
  // kills are the difference from SandboxContainer::oomKills.
  boost::asio::awaitable<long> readOomKills(const std::string& id);

  std::size_t readyCount(const std::string& image) const;  // clean containers waiting

 private:
  struct ImagePool {
    std::deque<SandboxContainer> clean;
    std::deque<SandboxContainer> dirty;
    int cleaning = 0;
    int creating = 0;
    int waiting = 0;  // acquirers waiting for a container in flight
    bool toppingUp = false;
  };

  boost::asio::awaitable<void> topUp(std::string image);
  boost::asio::awaitable<bool> isRunning(const std::string& id);
  boost::asio::awaitable<void> cleanAndShelve(SandboxContainer container);
  void spawn(boost::asio::awaitable<void> task);

  boost::asio::any_io_executor executor_;
  DockerClient& docker_;
  ProcessRunner& runner_;
  Settings settings_;
  Lifecycle lifecycle_;
  std::map<std::string, ImagePool> pools_;
  int backgroundTasks_ = 0;
  bool draining_ = false;
  ChangeNotifier changed_;
};

}  // namespace isol8::detail
