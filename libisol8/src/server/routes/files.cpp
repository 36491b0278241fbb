// POST /file and GET /file: files of a session's container, as base64.
#include "isol8/error.hpp"
#include "server/execution.hpp"
#include "server/routes/routes.hpp"
#include "server/state.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string stringField(const json::object& body, std::string_view key) {
  const auto* value = body.if_contains(key);
  if (!value || value->is_null()) return {};
  if (!value->is_string()) throw HttpError(400, std::string(key) + " must be a string");
  return std::string(value->get_string());
}

std::shared_ptr<Session> sessionOf(ServerState& state, const Caller& caller, const std::string& id) {
  auto session = state.sessions.find(caller, id);
  if (!session) throw HttpError(404, "Session not found");
  session->lastAccessedAt = nowMs();
  return session;
}

}  // namespace

asio::awaitable<Response> postFile(ServerState& state, const Caller& caller, const Request& request) {
  const json::object body = bodyObject(request);
  const std::string sessionId = stringField(body, "sessionId");
  const std::string path = stringField(body, "path");
  if (sessionId.empty() || path.empty()) throw HttpError(400, "Missing sessionId or path");
  auto session = sessionOf(state, caller, sessionId);
  auto content = detail::base64Decode(stringField(body, "content"));
  if (!content) throw HttpError(400, "content must be the file's bytes in base64 (standard alphabet, '=' padded)");
  std::optional<Response> failed;
  bool gone = false;
  try {
    co_await session->engine->asyncPutFile(path, std::move(*content));
    co_return Response::json(200, json::object{{"ok", true}});
  } catch (const std::exception& e) {
    failed = Response::failure(e);
    gone = isContainerGone(e);
  }
  if (gone) co_await forgetGoneSession(state, caller, session);
  co_return *failed;
}

asio::awaitable<Response> getFile(ServerState& state, const Caller& caller, const Request& request) {
  const auto sessionId = request.query.find("sessionId");
  const auto path = request.query.find("path");
  if (sessionId == request.query.end() || sessionId->second.empty() || path == request.query.end() ||
      path->second.empty())
    throw HttpError(400, "Missing sessionId or path");
  auto session = sessionOf(state, caller, sessionId->second);
  std::optional<Response> failed;
  bool gone = false;
  try {
    const std::string content = co_await session->engine->asyncGetFile(path->second);
    co_return Response::json(200, json::object{{"content", detail::base64Encode(content)}});
  } catch (const std::exception& e) {
    failed = Response::failure(e);
    gone = isContainerGone(e);
  }
  if (gone) co_await forgetGoneSession(state, caller, session);
  co_return *failed;
}

}  // namespace isol8::server
