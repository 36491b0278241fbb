// Method + path -> route. Errors a route throws as HttpError become {"error"} answers here.
#include "isol8/version.hpp"
#include "server/routes/routes.hpp"
#include "server/state.hpp"

namespace isol8::server {

namespace asio = boost::asio;

Response health() {
  return Response::json(200, boost::json::object{{"status", "ok"}, {"version", version()}});
}

namespace {

// "/session/abc" with prefix "/session/" -> "abc" (one non-empty segment), else nullopt.
std::optional<std::string> tail(const std::string& path, std::string_view prefix) {
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return std::nullopt;
  std::string rest = path.substr(prefix.size());
  if (rest.find('/') != std::string::npos) return std::nullopt;
  return rest;
}

asio::awaitable<Response> route(ServerState& state, const Caller& caller, Request& request) {
  const std::string& m = request.method;
  const std::string& p = request.path;
  if (p == "/execute" && m == "POST") co_return co_await postExecute(state, caller, request);
  if (p == "/file" && m == "POST") co_return co_await postFile(state, caller, request);
  if (p == "/file" && m == "GET") co_return co_await getFile(state, caller, request);
  if (p == "/sessions" && m == "GET") co_return getSessions(state, caller);
  if (auto id = tail(p, "/session/"); id && m == "DELETE") co_return co_await deleteSession(state, caller, *id);
  if (p == "/cleanup" && m == "POST") co_return co_await postCleanup(state, caller, request);
  if (p == "/auth/keys" && m == "POST") co_return postAuthKeys(state, caller, request);
  if (p == "/auth/keys" && m == "GET") co_return getAuthKeys(state, caller, request);
  if (auto id = tail(p, "/auth/keys/"); id && m == "DELETE") co_return deleteAuthKey(state, caller, *id);
  if (p == "/auth/login" && m == "POST") co_return postAuthLogin(state, caller, request);
  if (p == "/health" && m == "GET") co_return health();
  co_return Response::notFound();
}

}  // namespace

asio::awaitable<Response> dispatch(ServerState& state, const Caller& caller, Request& request) {
  try {
    co_return co_await route(state, caller, request);
  } catch (const HttpError& e) {
    co_return Response::error(e.status(), e.what());
  } catch (const std::exception& e) {
    co_return Response::failure(e);
  }
}

}  // namespace isol8::server
