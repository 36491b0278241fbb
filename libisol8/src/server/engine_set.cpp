#include "server/engine_set.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>

#include "json/wire.hpp"

namespace isol8::server {

namespace asio = boost::asio;

EngineSet::EngineSet(asio::any_io_executor executor, EngineOptions serverOptions, std::size_t maxEngines)
    : executor_(std::move(executor)),
      maxEngines_(maxEngines),
      serverKey_(keyOf(serverOptions)),
      serverEngine_(std::make_shared<DockerIsol8>(std::move(serverOptions))) {}

std::string EngineSet::keyOf(const EngineOptions& options) {
  // Every client-settable field; the rest (pool, maxConcurrent) is the same for all engines.
  return boost::json::serialize(wire::toJson(wire::clientOptionsFrom(options)));
}

std::shared_ptr<DockerIsol8> EngineSet::forOptions(const EngineOptions& options) {
  const std::string key = keyOf(options);
  if (key == serverKey_) return serverEngine_;
  for (auto it = others_.begin(); it != others_.end(); ++it) {
    if (it->key != key) continue;
    others_.splice(others_.begin(), others_, it);
    return others_.front().engine;
  }
  if (others_.size() >= maxEngines_) {
    // The least recently used engine no run holds any more (use_count 1: only this set) makes
    // room; when all are busy there is none for these options.
    const auto idle = std::find_if(others_.rbegin(), others_.rend(),
                                   [](const Entry& e) { return e.engine.use_count() == 1; });
    if (idle == others_.rend()) return nullptr;
    auto retired = std::move(idle->engine);
    others_.erase(std::next(idle).base());
    asio::co_spawn(executor_, [retired]() -> asio::awaitable<void> { co_await retired->asyncStop(); },
                   asio::detached);
  }
  others_.push_front(Entry{key, std::make_shared<DockerIsol8>(options)});
  return others_.front().engine;
}

asio::awaitable<void> EngineSet::asyncStart(std::vector<std::string> runtimes) {
  co_await serverEngine_->asyncStart(StartOptions{});
  for (auto& runtime : runtimes) {
    if (stopping_) co_return;  // shutting down: do not fill pools that are being drained
    // One at a time, so the first runtime's pool is ready first.
    StartOptions options;
    options.prewarm = true;
    options.runtimes.push_back(std::move(runtime));
    co_await serverEngine_->asyncStart(std::move(options));
  }
}

asio::awaitable<void> EngineSet::asyncStop() {
  stopping_ = true;
  co_await serverEngine_->asyncStop();
  for (auto& entry : others_) co_await entry.engine->asyncStop();
}

std::vector<std::string> EngineSet::engineIds() const {
  std::vector<std::string> ids{serverEngine_->engineId()};
  for (const auto& entry : others_) ids.push_back(entry.engine->engineId());
  return ids;
}

}  // namespace isol8::server
