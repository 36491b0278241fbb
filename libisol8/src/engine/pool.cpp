#include "engine/pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "docker/docker_client.hpp"
#include "engine/supervisor_channel.hpp"
#include "isol8/error.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;

namespace {
constexpr auto kSupervisorStart = std::chrono::seconds(20);
}

ContainerPool::ContainerPool(asio::any_io_executor executor, DockerClient& docker, Settings settings,
                             Lifecycle lifecycle, Logger log)
    : executor_(std::move(executor)),
      docker_(docker),
      settings_(settings),
      lifecycle_(std::move(lifecycle)),
      log_(std::move(log)),
      retryTimer_(executor_) {}

asio::awaitable<SandboxContainer> ContainerPool::create(const std::string& image) {
  SandboxContainer container{{}, image, newUuidV4().substr(0, 12)};
  // Named, so that a create the engine carried out after our call timed out can still be
  // found and removed: otherwise it would sit there, never started, for good.
  const std::string name = "isol8-" + container.key;
  std::exception_ptr createFailure;
  try {
    container.id = co_await docker_.createContainer(lifecycle_.spec(container), name);
  } catch (const Error& e) {
    createFailure = std::current_exception();
    if (e.code() == errc::docker_unavailable) removeLater(name);
  }
  if (createFailure) std::rethrow_exception(createFailure);
  std::exception_ptr failure;
  try {
    // Attached before start, so the supervisor's first words are not lost.
    container.supervisor = co_await SupervisorChannel::attach(docker_, container.id, log_);
    co_await docker_.startContainer(container.id);
    co_await container.supervisor->waitReady(kSupervisorStart);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    co_await destroy(container);
    std::rethrow_exception(failure);
  }
  log_.debug("container {} started ({})", container.id.substr(0, 12), image);
  co_return container;
}

asio::awaitable<void> ContainerPool::destroy(SandboxContainer container) {
  if (container.supervisor) container.supervisor->close();
  bool removed = false;
  try {
    co_await docker_.removeContainer(container.id);
    removed = true;
  } catch (const std::exception& e) {
    log_.warning("removing container {}: {}", container.id.substr(0, 12), e.what());
  }
  if (!removed && !container.id.empty()) removeLater(container.id);
  if (lifecycle_.removed) lifecycle_.removed(container);
}

void ContainerPool::removeLater(std::string id) {
  unremoved_.insert(std::move(id));
  if (retrying_) return;
  retrying_ = true;
  spawn(retryRemovals());
}

asio::awaitable<void> ContainerPool::retryRemovals() {
  auto pause = settings_.removalRetry;
  // drain() cancels the pause: one last try, then the owner's sweep takes what is left.
  for (bool last = draining_; !unremoved_.empty() && !last;) {
    if (!draining_) {
      retryTimer_.expires_after(pause);
      co_await retryTimer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    last = draining_;
    pause = std::min(pause * 2, settings_.removalRetryMax);
    const std::vector<std::string> ids(unremoved_.begin(), unremoved_.end());
    for (const auto& id : ids) {
      bool removed = false;
      try {
        co_await docker_.removeContainer(id);
        removed = true;
      } catch (const std::exception& e) {
        log_.warning("removing container {} again: {}", id.substr(0, 12), e.what());
      }
      if (removed) unremoved_.erase(id);
    }
  }
  retrying_ = false;
}

asio::awaitable<SandboxContainer> ContainerPool::acquire(const std::string& image, const std::string& tenant) {
  auto& pool = pools_[image];
  const bool fast = settings_.strategy == PoolStrategy::fast;
  for (;;) {
    // A container whose supervisor is gone (killed behind our back, the daemon restarted)
    // is replaced rather than handed out: no Engine API call needed to know.
    auto take = [&](std::deque<SandboxContainer>& from) -> std::optional<SandboxContainer> {
      while (!from.empty()) {
        auto container = std::move(from.front());
        from.pop_front();
        if (container.supervisor && container.supervisor->alive()) return container;
        log_.warning("pooled container {} lost its supervisor; replacing it", container.id.substr(0, 12));
        spawn(destroy(std::move(container)));
      }
      return std::nullopt;
    };
    if (fast) {
      if (auto own = take(pool.shelves[tenant].ready)) co_return std::move(*own);
    }
    // The pool is topped up when a container comes back (release), not now: creating one
    // costs a few hundred ms of the daemon's CPU, which would slow the run just handed out.
    if (auto fresh = take(pool.fresh)) {
      fresh->tenant = tenant;
      co_return std::move(*fresh);
    }
    // One of ours being cleaned (a few ms) or one being created is faster than a new one:
    // wait for it, unless enough others already wait for those in flight.
    auto& shelf = pool.shelves[tenant];
    if (fast && shelf.cleaning > shelf.waiting) {
      ++shelf.waiting;
      co_await changed_.wait();
      --shelf.waiting;
      continue;
    }
    if (pool.creating > pool.waiting) {
      ++pool.waiting;
      co_await changed_.wait();
      --pool.waiting;
      continue;
    }
    auto container = co_await create(image);
    container.tenant = tenant;
    co_return container;
  }
}

std::size_t ContainerPool::shelvedCount(const ImagePool& pool) {
  std::size_t count = 0;
  for (const auto& [tenant, shelf] : pool.shelves) count += shelf.ready.size() + static_cast<std::size_t>(shelf.cleaning);
  return count;
}

void ContainerPool::release(SandboxContainer container, bool reusable) {
  ++container.runs;
  auto& pool = pools_[container.image];
  const std::string image = container.image;
  const auto capacity = static_cast<std::size_t>(settings_.size.clean + settings_.size.dirty);
  const bool keep = reusable && !draining_ && settings_.strategy == PoolStrategy::fast &&
                    container.runs < settings_.maxReuse && shelvedCount(pool) < capacity &&
                    container.supervisor && container.supervisor->alive();
  if (!keep) {
    spawn(destroy(std::move(container)));
    if (!draining_) spawn(topUp(image));
    return;
  }
  ++pool.shelves[container.tenant].cleaning;  // counted at once: the next acquire waits for it
  spawn(cleanAndShelve(std::move(container)));
  spawn(topUp(image));
}

asio::awaitable<void> ContainerPool::cleanAndShelve(SandboxContainer container) {
  auto& shelf = pools_[container.image].shelves[container.tenant];
  bool cleaned = false;
  try {
    const auto done = co_await container.supervisor->reset(supervisor::ResetScope::everything);
    cleaned = done.ok;
    if (!done.ok) log_.warning("container {} not proved clean ({}); replacing it", container.id.substr(0, 12), done.message);
  } catch (const std::exception& e) {
    log_.warning("cleaning container {}: {}", container.id.substr(0, 12), e.what());
  }
  --shelf.cleaning;
  if (cleaned && !draining_) {
    shelf.ready.push_back(std::move(container));
  } else {
    const std::string image = container.image;
    co_await destroy(std::move(container));
    if (!draining_) spawn(topUp(image));
  }
  changed_.notify();
}

// Creates fresh containers (one at a time per image) until `clean` are ready or on their way.
asio::awaitable<void> ContainerPool::topUp(std::string image) {
  auto& pool = pools_[image];
  if (pool.toppingUp) co_return;
  pool.toppingUp = true;
  // Counted like a background task even when awaited directly (prewarm): drain() must wait
  // for a container being created, or it would be left behind.
  ++backgroundTasks_;
  struct Done {
    ContainerPool& self;
    ImagePool& pool;
    ~Done() {
      pool.toppingUp = false;
      --self.backgroundTasks_;
      self.changed_.notify();
    }
  } done{*this, pool};
  while (!draining_ && pool.fresh.size() < static_cast<std::size_t>(settings_.size.clean)) {
    ++pool.creating;
    std::optional<SandboxContainer> created;
    bool warmed = false;
    try {
      created = co_await create(image);
      if (lifecycle_.warm) {
        // The warm-up is the engine's own step; the container is then cleaned like any other.
        co_await lifecycle_.warm(*created);
        const auto done = co_await created->supervisor->reset(supervisor::ResetScope::everything);
        if (!done.ok) throw Error(errc::docker_error, "a warmed container was not proved clean: " + done.message);
      }
      warmed = true;
    } catch (const std::exception& e) {
      log_.warning("warming a container of {}: {}", image, e.what());
    }
    if (created && !warmed) {
      co_await destroy(std::move(*created));
      created.reset();
    }
    --pool.creating;
    if (!created) break;
    if (draining_) {
      co_await destroy(std::move(*created));
    } else {
      pool.fresh.push_back(std::move(*created));
    }
    changed_.notify();
  }
}

asio::awaitable<void> ContainerPool::prewarm(const std::string& image) {
  co_await topUp(image);
  // Another top-up may have been running: wait for it to finish filling.
  auto& pool = pools_[image];
  while (pool.toppingUp) co_await changed_.wait();
}

asio::awaitable<void> ContainerPool::drain() {
  draining_ = true;
  retryTimer_.cancel();
  changed_.notify();
  while (backgroundTasks_ > 0) co_await changed_.wait();
  std::vector<SandboxContainer> containers;
  // Entries stay in the maps (only emptied): coroutines hold references to them.
  for (auto& [image, pool] : pools_) {
    containers.insert(containers.end(), pool.fresh.begin(), pool.fresh.end());
    pool.fresh.clear();
    for (auto& [tenant, shelf] : pool.shelves) {
      containers.insert(containers.end(), shelf.ready.begin(), shelf.ready.end());
      shelf.ready.clear();
    }
  }
  for (auto& container : containers) co_await destroy(std::move(container));
  draining_ = false;
}

std::size_t ContainerPool::readyCount(const std::string& image) const {
  auto it = pools_.find(image);
  return it == pools_.end() ? 0 : it->second.fresh.size();
}

void ContainerPool::spawn(asio::awaitable<void> task) {
  ++backgroundTasks_;
  asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr failure) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        log_.warning("pool: {}", e.what());
      }
    }
    --backgroundTasks_;
    changed_.notify();
  });
}

}  // namespace isol8::detail
