// The warm pool: started containers per image with their supervisor ready, handed out one
// run at a time, and never across tenants.
//
// fresh:  never used; any tenant may take one. Topped up to poolSize.clean in the background.
// fast:   after a run the supervisor kills everything and cleans (processes, files anywhere
//         the sandbox user can write, SysV IPC, POSIX queues), proving it; the container then
//         waits on its tenant's shelf, for that tenant only. Not proved clean: destroyed.
// secure: single use. A container is destroyed after its run and replaced in the background.
//
// Runs on the engine's executor only (no locks).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "engine/notifier.hpp"
#include "isol8/options.hpp"
#include "util/log.hpp"

namespace isol8::detail {

class DockerClient;
class SupervisorChannel;

struct SandboxContainer {
  std::string id;
  std::string image;
  std::string key;     // random name given at creation (names its egress-proxy socket)
  std::string tenant;  // whose runs it served; a fresh container has served none
  int runs = 0;        // runs served so far
  std::shared_ptr<SupervisorChannel> supervisor;
};

class ContainerPool {
 public:
  struct Settings {
    PoolStrategy strategy = PoolStrategy::fast;
    PoolSize size;
    int maxReuse = 100;
    // A failed removal is asked again after removalRetry, the pause doubling up to removalRetryMax.
    std::chrono::milliseconds removalRetry{1000};
    std::chrono::milliseconds removalRetryMax{60000};
  };
  // What the engine adds to a container's life (filtered mode: the egress-proxy socket).
  struct Lifecycle {
    // The body of POST /containers/create.
    std::function<boost::json::object(const SandboxContainer&)> spec;
    // Before a new container joins the fresh ones (not on a run's path): a warm-up step.
    std::function<boost::asio::awaitable<void>(const SandboxContainer&)> warm;
    // After removal.
    std::function<void(const SandboxContainer&)> removed;
  };

  ContainerPool(boost::asio::any_io_executor executor, DockerClient& docker, Settings settings, Lifecycle lifecycle,
                Logger log);

  // A container of `image` ready for a run of `tenant`: one of its own cleaned ones, else a
  // fresh one (created when none is ready).
  boost::asio::awaitable<SandboxContainer> acquire(const std::string& image, const std::string& tenant);
  // Hands a container back after a run. Not reusable (the run broke it): destroyed.
  void release(SandboxContainer container, bool reusable);
  // Fills the pool of `image` with fresh containers up to its clean size.
  boost::asio::awaitable<void> prewarm(const std::string& image);
  // Removes every pooled container and waits for background work; later releases destroy.
  boost::asio::awaitable<void> drain();

  // A started container with its supervisor ready, outside the pool (persistent mode), and
  // its removal.
  boost::asio::awaitable<SandboxContainer> create(const std::string& image);
  boost::asio::awaitable<void> destroy(SandboxContainer container);

  std::size_t readyCount(const std::string& image) const;  // fresh containers waiting

 private:
  struct Shelf {  // one tenant's cleaned containers of one image (fast)
    std::deque<SandboxContainer> ready;
    int cleaning = 0;
    int waiting = 0;
  };
  struct ImagePool {
    std::deque<SandboxContainer> fresh;
    std::map<std::string, Shelf> shelves;  // by tenant
    int creating = 0;
    int waiting = 0;  // acquirers waiting for a container being created
    bool toppingUp = false;
  };

  boost::asio::awaitable<void> topUp(std::string image);
  boost::asio::awaitable<void> cleanAndShelve(SandboxContainer container);
  static std::size_t shelvedCount(const ImagePool& pool);  // used ones kept (ready or being cleaned)
  void spawn(boost::asio::awaitable<void> task);
  // Removal failed (engine outage, fd exhaustion): not forgotten, asked again with backoff
  // until it works or the pool drains (then the owner's sweep by label takes it).
  void removeLater(std::string id);
  boost::asio::awaitable<void> retryRemovals();

  boost::asio::any_io_executor executor_;
  DockerClient& docker_;
  Settings settings_;
  Lifecycle lifecycle_;
  Logger log_;
  std::map<std::string, ImagePool> pools_;
  int backgroundTasks_ = 0;
  bool draining_ = false;
  std::set<std::string> unremoved_;  // ids whose removal failed
  bool retrying_ = false;
  boost::asio::steady_timer retryTimer_;
  ChangeNotifier changed_;
};

}  // namespace isol8::detail
