#include "server/sessions.hpp"

#include <algorithm>
#include <chrono>

namespace isol8::server {

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SessionUse::SessionUse(std::shared_ptr<Session> session) : session_(std::move(session)) {
  if (!session_) return;
  ++session_->activeRuns;
  session_->lastAccessedAt = nowMs();
}

SessionUse::~SessionUse() {
  if (!session_) return;
  --session_->activeRuns;
  session_->lastAccessedAt = nowMs();
}

std::shared_ptr<Session> SessionRegistry::find(const Caller& caller, const std::string& id) const {
  const auto it = sessions_.find(Key{caller.owner(), id});
  return it == sessions_.end() ? nullptr : it->second;
}

std::shared_ptr<Session> SessionRegistry::create(const Caller& caller, const std::string& id, EngineOptions options) {
  options.mode = ExecutionMode::persistent;
  options.sessionLabel = id;
  auto& slot = sessions_[Key{caller.owner(), id}];
  slot = std::make_shared<Session>(
      Session{id, caller.owner(), std::make_shared<DockerIsol8>(std::move(options)), nowMs(), 0, ++created_});
  return slot;
}

std::size_t SessionRegistry::countOf(const Caller& caller) const {
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) { return entry.first.first == caller.owner(); }));
}

std::vector<std::shared_ptr<Session>> SessionRegistry::list(const Caller& caller) const {
  std::vector<std::shared_ptr<Session>> result;
  for (const auto& [key, session] : sessions_)
    if (key.first == caller.owner()) result.push_back(session);
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) { return a->order < b->order; });
  return result;
}

std::vector<std::string> SessionRegistry::engineIds() const {
  std::vector<std::string> ids;
  for (const auto& [key, session] : sessions_) ids.push_back(session->engine->engineId());
  return ids;
}

std::shared_ptr<Session> SessionRegistry::remove(const Caller& caller, const std::string& id) {
  const auto it = sessions_.find(Key{caller.owner(), id});
  if (it == sessions_.end()) return nullptr;
  auto session = std::move(it->second);
  sessions_.erase(it);
  return session;
}

std::vector<std::shared_ptr<Session>> SessionRegistry::removeAll(const std::optional<Caller>& caller) {
  std::vector<std::shared_ptr<Session>> removed;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (caller && it->first.first != caller->owner()) {
      ++it;
      continue;
    }
    removed.push_back(std::move(it->second));
    it = sessions_.erase(it);
  }
  return removed;
}

std::vector<std::shared_ptr<Session>> SessionRegistry::removeIdle(std::int64_t idleSince) {
  std::vector<std::shared_ptr<Session>> removed;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->activeRuns == 0 && it->second->lastAccessedAt < idleSince) {
      removed.push_back(std::move(it->second));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace isol8::server
