#include "server/execution.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "isol8/error.hpp"
#include "json/wire.hpp"
#include "server/policy.hpp"
#include "server/state.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

int statusOf(const Error& e) { return e.code() == errc::invalid_request ? 400 : 500; }

// server.maxSessions and server.maxSessionsPerTenant: each session holds a container (up to
// its memoryLimit) until it is deleted or pruned.
void checkSessionRoom(const ServerState& state, const Caller& caller) {
  const auto& limits = state.config.server;
  if (static_cast<std::int64_t>(state.sessions.countOf(caller)) >= limits.maxSessionsPerTenant)
    throw HttpError(429, fmt::format("Too many sessions: this tenant has {} (server.maxSessionsPerTenant); delete one "
                                     "first (DELETE /session/:id)",
                                     limits.maxSessionsPerTenant));
  if (static_cast<std::int64_t>(state.sessions.size()) >= limits.maxSessions)
    throw HttpError(429, fmt::format("Too many sessions: the server holds {} (server.maxSessions); try again later",
                                     limits.maxSessions));
}

}  // namespace

std::string errorEventJson(std::string_view message) {
  StreamEvent event;
  event.type = StreamEvent::Type::error;
  event.data = std::string(message);
  return json::serialize(wire::toJson(event, false));
}

PreparedRun prepareRun(ServerState& state, const Caller& caller, const json::value& envelope) {
  wire::ExecuteBody body = checkedExecuteBody(state.config, envelope);
  PreparedRun run;
  run.request = std::move(body.request);
  // Never from the client: a container serves one caller's runs only.
  run.request.tenant = caller.master ? std::string("master") : "tenant:" + caller.tenantId;
  if (body.sessionId) {
    // An existing session keeps the options it was created with, as in the original.
    if (!(run.session = state.sessions.find(caller, *body.sessionId))) {
      checkSessionRoom(state, caller);
      run.session = state.sessions.create(caller, *body.sessionId, requestEngineOptions(state.config, std::move(body.options)));
    }
    run.engine = run.session->engine;
  } else if (body.options == wire::ClientOptions{}) {
    run.engine = state.engines.serverEngine();  // the common case: nothing to build or compare
  } else {
    run.engine = state.engines.forOptions(requestEngineOptions(state.config, std::move(body.options)));
    if (!run.engine)
      throw HttpError(503, fmt::format("All {} engines for distinct options are busy (server.maxEngines); try again "
                                       "later, or send the server's default options",
                                       state.config.server.maxEngines));
  }
  return run;
}

asio::awaitable<Response> runBuffered(ServerState& state, const Caller& caller, PreparedRun run,
                                      std::shared_ptr<RunCanceller> clientGone) {
  if (!clientGone) clientGone = std::make_shared<RunCanceller>();
  auto permit = co_await state.permits.acquire();
  // A client that left while queued gets no run (nobody reads the answer).
  if (clientGone->cancelled()) co_return Response::error(499, "The client closed the connection");
  SessionUse use(run.session);
  const std::string startedAt = detail::isoTimestampNow();
  try {
    const ExecutionResult result = co_await run.engine->asyncExecute(run.request, clientGone);
    state.audit.record(caller, run.request, result, startedAt);
    co_return Response::json(200, wire::toJson(result));
  } catch (const Error& e) {
    co_return Response::error(statusOf(e), e.message());
  } catch (const std::exception& e) {
    co_return Response::error(500, e.what());
  }
}

asio::awaitable<void> runStreamed(ServerState& state, Caller caller, PreparedRun run, std::shared_ptr<Outbox> out) {
  try {
    auto permit = co_await state.permits.acquire();
    if (!out->cancelled()) {
      SessionUse use(run.session);
      const std::string startedAt = detail::isoTimestampNow();
      ExecutionStream stream = run.engine->executeStream(run.request);
      out->onCancel([&stream] { stream.cancel(); });
      struct Unhook {
        Outbox& out;
        ~Unhook() { out.onCancel({}); }
      } unhook{*out};
      while (auto event = co_await stream.next()) out->push(json::serialize(wire::toJson(*event)));
      if (auto result = stream.result()) state.audit.record(caller, run.request, *result, startedAt);
    }
  } catch (const std::exception& e) {
    out->push(errorEventJson(e.what()));
  }
  out->finish();
}

}  // namespace isol8::server
