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

// The request's engine options, on this server's containers (owner label).
EngineOptions engineOptionsFor(const ServerState& state, wire::ClientOptions options) {
  EngineOptions result = requestEngineOptions(state.config, std::move(options));
  result.owner = state.owner;
  return result;
}

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
  run.resultEvent = body.resultEvent;
  // Never from the client: a container serves one caller's runs only.
  run.request.tenant = caller.master ? std::string("master") : "tenant:" + caller.tenantId;
  if (body.sessionId) {
    // An existing session keeps the options it was created with, as in the original.
    if (!(run.session = state.sessions.find(caller, *body.sessionId))) {
      checkSessionRoom(state, caller);
      run.session = state.sessions.create(caller, *body.sessionId, engineOptionsFor(state, std::move(body.options)));
    }
    run.engine = run.session->engine;
  } else if (body.options == wire::ClientOptions{}) {
    run.engine = state.engines.serverEngine();  // the common case: nothing to build or compare
  } else {
    run.engine = state.engines.forOptions(engineOptionsFor(state, std::move(body.options)));
    if (!run.engine)
      throw HttpError(503, fmt::format("All {} engines for distinct options are busy (server.maxEngines); try again "
                                       "later, or send the server's default options",
                                       state.config.server.maxEngines));
  }
  return run;
}

asio::awaitable<void> forgetGoneSession(ServerState& state, const Caller& caller, const std::shared_ptr<Session>& session) {
  if (!session || state.sessions.find(caller, session->id) != session) co_return;
  state.sessions.remove(caller, session->id);
  try {
    co_await session->engine->asyncStop();
  } catch (const std::exception&) {
    // Its container is gone already; the sweep by owner label takes whatever is left.
  }
}

asio::awaitable<Response> runBuffered(ServerState& state, const Caller& caller, PreparedRun run,
                                      std::shared_ptr<RunCanceller> clientGone) {
  if (!clientGone) clientGone = std::make_shared<RunCanceller>();
  auto permit = co_await state.permits.acquire();
  // A client that left while queued gets no run (nobody reads the answer).
  if (clientGone->cancelled()) co_return Response::error(499, "The client closed the connection");
  SessionUse use(run.session);
  const std::string startedAt = detail::isoTimestampNow();
  std::optional<Response> failed;
  bool gone = false;
  try {
    const ExecutionResult result = co_await run.engine->asyncExecute(run.request, clientGone);
    state.audit.record(caller, run.request, result, startedAt);
    co_return Response::json(200, wire::toJson(result));
  } catch (const std::exception& e) {
    failed = Response::failure(e);
    gone = isContainerGone(e);
  }
  if (gone) co_await forgetGoneSession(state, caller, run.session);
  co_return *failed;
}

asio::awaitable<void> runStreamed(ServerState& state, Caller caller, PreparedRun run, std::shared_ptr<Outbox> out) {
  bool gone = false;
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
      if (auto result = stream.result()) {
        state.audit.record(caller, run.request, *result, startedAt);
        if (run.resultEvent) out->push(json::serialize(wire::resultEventJson(*result)));
      }
    }
  } catch (const std::exception& e) {
    out->push(errorEventJson(failureMessage(e)));
    gone = isContainerGone(e);
  }
  if (gone) co_await forgetGoneSession(state, caller, run.session);
  out->finish();
}

}  // namespace isol8::server
