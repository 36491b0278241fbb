// GET /sessions and DELETE /session/:id: the caller's own sessions only.
#include "server/routes/routes.hpp"
#include "server/state.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace json = boost::json;

Response getSessions(ServerState& state, const Caller& caller) {
  json::array sessions;
  for (const auto& session : state.sessions.list(caller))
    sessions.push_back(json::object{{"id", session->id},
                                    {"isActive", session->activeRuns > 0},
                                    {"lastAccessedAt", detail::isoTimestamp(session->lastAccessedAt)}});
  return Response::json(200, json::object{{"sessions", std::move(sessions)}});
}

// Idempotent: an unknown (or another tenant's) id is 200 too, and changes nothing.
boost::asio::awaitable<Response> deleteSession(ServerState& state, const Caller& caller, const std::string& id) {
  if (auto session = state.sessions.remove(caller, id)) co_await session->engine->asyncStop();
  co_return Response::json(200, json::object{{"ok", true}});
}

}  // namespace isol8::server
