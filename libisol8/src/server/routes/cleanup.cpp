// POST /cleanup. Unlike the original, which removed every isol8 container and image on the
// host for any key, this touches only what this server made: a DB key's cleanup stops its
// tenant's sessions; the master key's stops all sessions and removes the containers of the
// server's engines; images only when asked ({"images": true}) and only with the master key.
#include <algorithm>

#include "isol8/cleanup.hpp"
#include "server/routes/routes.hpp"
#include "server/state.hpp"

namespace isol8::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object reportJson(const CleanupReport& report) {
  json::array errors;
  for (const auto& error : report.errors) errors.emplace_back(error);
  return json::object{{"removed", report.removed}, {"failed", report.failed}, {"errors", std::move(errors)}};
}

}  // namespace

asio::awaitable<Response> postCleanup(ServerState& state, const Caller& caller, const Request& request) {
  bool images = false;
  try {
    const json::object body = bodyObject(request, true);
    if (const auto* value = body.if_contains("images"); value && value->is_bool()) images = value->get_bool();
  } catch (const HttpError&) {
    // As in the original, a missing or malformed body means the defaults.
  }
  if (images && !caller.master) co_return Response::error(403, "Master key required for this operation");

  CleanupReport sessions;
  for (auto& session : state.sessions.removeAll(caller.master ? std::nullopt : std::optional(caller))) {
    try {
      co_await session->engine->asyncStop();
      ++sessions.removed;
    } catch (const std::exception& e) {
      ++sessions.failed;
      sessions.errors.push_back(session->id + ": " + e.what());
    }
  }
  json::object answer{{"ok", true}, {"sessions", reportJson(sessions)}};
  try {
    CleanupReport containers;
    if (caller.master) {
      const auto ours = state.engines.engineIds();
      std::vector<Isol8Container> mine;
      const auto all = co_await asyncListIsol8Containers(true);  // its own engines are alive
      for (auto container : all)
        if (std::find(ours.begin(), ours.end(), container.engineId) != ours.end()) mine.push_back(std::move(container));
      containers = co_await asyncRemoveContainers(std::move(mine));
    }
    answer["containers"] = reportJson(containers);
    if (images) answer["images"] = reportJson(co_await asyncCleanupImages());
  } catch (const std::exception& e) {
    co_return Response::failure(e);
  }
  co_return Response::json(200, answer);
}

}  // namespace isol8::server
