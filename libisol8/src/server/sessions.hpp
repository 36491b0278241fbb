// isol8-server's sessions: a persistent container per session id, owned by the caller that
// created it (a DB key's tenant, or the master key), so another tenant can neither see nor
// use it. Ids are the client's; each owner has its own id space. Kept in memory: a restart
// forgets them (shutdown removes their containers; after a crash the label isol8.session
// finds them).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "isol8/docker_isol8.hpp"
#include "server/http_types.hpp"

namespace isol8::server {

struct Session {
  std::string id;
  std::optional<std::string> owner;
  std::shared_ptr<DockerIsol8> engine;  // mode persistent
  std::int64_t lastAccessedAt = 0;      // epoch ms
  int activeRuns = 0;
  std::uint64_t order = 0;  // creation order, for listing
};

// Marks a session busy for the life of a run (not pruned meanwhile) and refreshes its
// lastAccessedAt at both ends. A session deleted meanwhile stays alive until the run ends.
class SessionUse {
 public:
  explicit SessionUse(std::shared_ptr<Session> session);
  ~SessionUse();
  SessionUse(SessionUse&&) noexcept = default;
  SessionUse& operator=(SessionUse&&) = delete;

 private:
  std::shared_ptr<Session> session_;
};

class SessionRegistry {
 public:
  std::shared_ptr<Session> find(const Caller& caller, const std::string& id) const;
  // A new session `id` of the caller (after find() found none), with `options` in mode persistent.
  std::shared_ptr<Session> create(const Caller& caller, const std::string& id, EngineOptions options);
  // How many sessions there are, of all owners / of the caller's.
  std::size_t size() const { return sessions_.size(); }
  std::size_t countOf(const Caller& caller) const;
  // The caller's sessions, oldest first.
  std::vector<std::shared_ptr<Session>> list(const Caller& caller) const;
  // Forgets the caller's session `id`; the caller stops its engine. nullptr when none.
  std::shared_ptr<Session> remove(const Caller& caller, const std::string& id);
  // Forgets sessions of one owner (or, with nullopt, every session).
  std::vector<std::shared_ptr<Session>> removeAll(const std::optional<Caller>& caller);
  // Forgets the sessions with no run in flight that were last used before `idleSince`.
  std::vector<std::shared_ptr<Session>> removeIdle(std::int64_t idleSince);
  // engineId() of every session's engine.
  std::vector<std::string> engineIds() const;

 private:
  using Key = std::pair<std::optional<std::string>, std::string>;  // owner, id
  std::map<Key, std::shared_ptr<Session>> sessions_;
  std::uint64_t created_ = 0;
};

std::int64_t nowMs();

}  // namespace isol8::server
