#include "engine/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "docker/docker_client.hpp"
#include "engine/process_runner.hpp"
#include "isol8/error.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace isol8::detail {

namespace asio = boost::asio;

namespace {

// Runs as the sandbox user (uid 100), the only user whose processes and files a run can
// leave behind; with every capability dropped, root could not enter the 0700 /sandbox anyway.
// 1. Every process of uid 100 killed (kKillSandboxProcessesScript, process_runner.hpp).
// 2. Give the owner back every permission a run may have removed, then delete everything in
//    /sandbox and /tmp, dotfiles included; check that nothing is left.
// 3. Print the memory cgroup's oom_kill counter: the baseline for the next run's OOM check.
// Exit codes: 3 processes survive, 4 files survive.
// Prints the memory cgroup's counters (v1 or v2); the line "oom_kill <n>" is what we read.
constexpr const char* kOomCountersCommand =
    "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null || cat /sys/fs/cgroup/memory.events 2>/dev/null";

long oomKillsIn(const std::string& text) {
  for (const auto& line : split(text, '\n')) {
    if (line.starts_with("oom_kill ")) return std::stol(line.substr(9));
  }
  return -1;
}

const std::string& hygieneScript() {
  static const std::string script = std::string(kKillSandboxProcessesScript) + R"sh(
chmod -R u+rwX /sandbox /tmp 2>/dev/null
rm -rf /sandbox/* /sandbox/.[!.]* /sandbox/..?* /tmp/* /tmp/.[!.]* /tmp/..?* 2>/dev/null
for f in /sandbox/* /sandbox/.[!.]* /sandbox/..?* /tmp/* /tmp/.[!.]* /tmp/..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then exit 4; fi
done
)sh" + kOomCountersCommand + "\nexit 0\n";
  return script;
}

}  // namespace

ContainerPool::ContainerPool(asio::any_io_executor executor, DockerClient& docker, ProcessRunner& runner,
                             Settings settings, Lifecycle lifecycle)
    : executor_(std::move(executor)),
      docker_(docker),
      runner_(runner),
      settings_(settings),
      lifecycle_(std::move(lifecycle)) {}

asio::awaitable<SandboxContainer> ContainerPool::create(const std::string& image) {
  SandboxContainer container{{}, image, newUuidV4().substr(0, 12)};
  container.id = co_await docker_.createContainer(lifecycle_.spec(container));
  std::exception_ptr failure;
  try {
    co_await docker_.startContainer(container.id);
    if (lifecycle_.prepare) co_await lifecycle_.prepare(container);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    co_await destroy(container);
    std::rethrow_exception(failure);
  }
  debugLog("container {} started ({})", container.id.substr(0, 12), image);
  co_return container;
}

asio::awaitable<void> ContainerPool::destroy(SandboxContainer container) {
  try {
    co_await docker_.removeContainer(container.id);
  } catch (const std::exception& e) {
    debugLog("removing container {}: {}", container.id.substr(0, 12), e.what());
  }
  if (lifecycle_.removed) lifecycle_.removed(container);
}

asio::awaitable<long> ContainerPool::readOomKills(const std::string& id) {
  ProcessSpec spec;
  spec.containerId = id;
  spec.argv = {"sh", "-c", kOomCountersCommand};
  spec.timeout = std::chrono::seconds(10);
  std::string text;
  auto outcome = co_await runner_.run(spec, [&](DockerStream s, std::string_view d) {
    if (s == DockerStream::stdout) text.append(d);
  });
  co_return outcome.exitCode == 0 ? oomKillsIn(text) : -1;
}

asio::awaitable<bool> ContainerPool::isRunning(const std::string& id) {
  try {
    auto state = (co_await docker_.inspectContainer(id)).at("State").as_object();
    co_return state.at("Running").as_bool() && !state.at("Paused").as_bool();
  } catch (const std::exception&) {
    co_return false;  // gone (404) or unreadable: not usable either way
  }
}

asio::awaitable<bool> ContainerPool::clean(SandboxContainer& container) {
  ProcessSpec spec;
  spec.containerId = container.id;
  spec.argv = {"sh", "-c", hygieneScript()};
  spec.workdir = "/";
  spec.timeout = std::chrono::seconds(15);
  std::string output;
  ProcessOutcome outcome;
  try {
    outcome = co_await runner_.run(spec, [&](DockerStream stream, std::string_view data) {
      if (stream == DockerStream::stdout) output.append(data);
    });
  } catch (const std::exception& e) {
    debugLog("cleaning container {}: {}", container.id.substr(0, 12), e.what());
    co_return false;
  }
  if (outcome.exitCode != 0) {
    debugLog("cleaning container {} failed (exit code {})", container.id.substr(0, 12), outcome.exitCode);
    co_return false;
  }
  if (const long kills = oomKillsIn(output); kills >= 0) container.oomKills = kills;
  co_return true;
}

asio::awaitable<SandboxContainer> ContainerPool::acquire(const std::string& image) {
  auto& pool = pools_[image];
  for (;;) {
    if (!pool.clean.empty()) {
      auto container = std::move(pool.clean.front());
      pool.clean.pop_front();
      // A container may have died while it waited (killed or stopped behind our back, the
      // engine restarted): ~1 ms to ask, instead of a failed run.
      if (!co_await isRunning(container.id)) {
        debugLog("pooled container {} is not running; replacing it", container.id.substr(0, 12));
        spawn(destroy(std::move(container)));
        continue;
      }
      spawn(topUp(image));
      co_return container;
    }
    if (!pool.dirty.empty()) {
      auto container = std::move(pool.dirty.front());
      pool.dirty.pop_front();
      ++pool.cleaning;
      const bool cleaned = co_await clean(container);
      --pool.cleaning;
      if (cleaned) {
        spawn(topUp(image));
        co_return container;
      }
      spawn(destroy(std::move(container)));
      continue;
    }
    // A container being cleaned or created in the background is usually faster than a new
    // one: wait for it, unless enough others are already waiting for the ones in flight.
    if (pool.cleaning + pool.creating > pool.waiting) {
      ++pool.waiting;
      co_await changed_.wait();
      --pool.waiting;
      continue;
    }
    auto container = co_await create(image);
    spawn(topUp(image));
    co_return container;
  }
}

void ContainerPool::release(SandboxContainer container, bool reusable) {
  ++container.runs;
  auto& pool = pools_[container.image];
  const std::string image = container.image;
  const bool fast = settings_.strategy == PoolStrategy::fast;
  // fast keeps up to clean + dirty containers (cleaned right away, so the next acquire finds one
  // ready and starts no work beside its run); secure keeps up to `clean` dirty ones.
  const std::size_t kept = fast ? pool.clean.size() + pool.cleaning : pool.dirty.size();
  const auto capacity =
      static_cast<std::size_t>(fast ? settings_.size.clean + settings_.size.dirty : std::max(settings_.size.clean, 1));
  if (!reusable || draining_ || container.runs >= settings_.maxReuse || kept >= capacity) {
    spawn(destroy(std::move(container)));
    if (!draining_) spawn(topUp(image));
    return;
  }
  if (fast) {
    spawn(cleanAndShelve(std::move(container)));
  } else {
    pool.dirty.push_back(std::move(container));
    changed_.notify();
  }
}

asio::awaitable<void> ContainerPool::cleanAndShelve(SandboxContainer container) {
  auto& pool = pools_[container.image];
  ++pool.cleaning;
  const bool cleaned = co_await clean(container);
  --pool.cleaning;
  if (cleaned && !draining_) {
    pool.clean.push_back(std::move(container));
  } else {
    co_await destroy(std::move(container));
  }
  changed_.notify();
}

// Creates containers (one at a time per image) until `clean` are ready or on their way.
asio::awaitable<void> ContainerPool::topUp(std::string image) {
  auto& pool = pools_[image];
  if (pool.toppingUp) co_return;
  pool.toppingUp = true;
  // Counted like a background task even when awaited directly (prewarm): drain() must wait
  // for a container being created, or it would be left behind.
  ++backgroundTasks_;
  struct Done {
    ContainerPool& self;
    ~Done() {
      --self.backgroundTasks_;
      self.changed_.notify();
    }
  } done{*this};
  try {
    // fast counts the containers being cleaned; secure counts the dirty ones waiting (they
    // are cleaned when handed out), so it does not create a container per run.
    auto available = [&] {
      return pool.clean.size() +
             (settings_.strategy == PoolStrategy::fast ? static_cast<std::size_t>(pool.cleaning) : pool.dirty.size());
    };
    while (!draining_ && available() < static_cast<std::size_t>(settings_.size.clean)) {
      ++pool.creating;
      std::optional<SandboxContainer> created;
      try {
        created = co_await create(image);
      } catch (const std::exception& e) {
        debugLog("warming a container of {}: {}", image, e.what());
      }
      --pool.creating;
      if (!created) break;
      if (draining_) {
        co_await destroy(std::move(*created));
      } else {
        pool.clean.push_back(std::move(*created));
      }
      changed_.notify();
    }
  } catch (...) {
    pool.toppingUp = false;
    changed_.notify();
    throw;
  }
  pool.toppingUp = false;
  changed_.notify();
}

asio::awaitable<void> ContainerPool::prewarm(const std::string& image) {
  co_await topUp(image);
  // Another top-up may have been running: wait for it to finish filling.
  auto& pool = pools_[image];
  while (pool.toppingUp) co_await changed_.wait();
}

asio::awaitable<void> ContainerPool::drain() {
  draining_ = true;
  changed_.notify();
  while (backgroundTasks_ > 0) co_await changed_.wait();
  std::vector<SandboxContainer> containers;
  // Entries stay in the map (only emptied): coroutines hold references to them.
  for (auto& [image, pool] : pools_) {
    containers.insert(containers.end(), pool.clean.begin(), pool.clean.end());
    containers.insert(containers.end(), pool.dirty.begin(), pool.dirty.end());
    pool.clean.clear();
    pool.dirty.clear();
  }
  for (auto& container : containers) co_await destroy(std::move(container));
  draining_ = false;
}

std::size_t ContainerPool::readyCount(const std::string& image) const {
  auto it = pools_.find(image);
  return it == pools_.end() ? 0 : it->second.clean.size();
}

void ContainerPool::spawn(asio::awaitable<void> task) {
  ++backgroundTasks_;
  asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr failure) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        debugLog("pool: {}", e.what());
      }
    }
    --backgroundTasks_;
    changed_.notify();
  });
}

}  // namespace isol8::detail
