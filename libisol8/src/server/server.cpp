#include "server/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include "isol8/image_builder.hpp"
#include "isol8/version.hpp"
#include "server/http_transport.hpp"
#include "server/state.hpp"
#include "server/sweep.hpp"
#include "engine/owner_lock.hpp"
#include "util/log.hpp"

namespace isol8::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

std::string firstLine(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

void info(std::string_view line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

// The key database: --auth-db, else config auth (connectionString, default ~/.isol8/auth.db).
std::unique_ptr<auth::KeyStore> openKeys(const ServerOptions& options) {
  if (options.authDb) return auth::openKeyStore(*options.authDb);
  if (!options.config.auth.enabled) return nullptr;
  if (options.config.auth.connectionString) return auth::openKeyStore(*options.config.auth.connectionString);
  const char* home = std::getenv("HOME");
  return auth::openKeyStore((std::filesystem::path(home ? home : ".") / ".isol8" / "auth.db").string());
}

// Images of config prebuiltImages that are missing, built before the server listens.
asio::awaitable<void> buildPrebuiltImages(const Config& config) {
  ImageBuilder builder([](std::string_view line) { fmt::print(stderr, "{}\n", line); });
  for (const auto& image : config.prebuiltImages) {
    CustomImageSpec spec{image.tag, image.runtime, image.installPackages, image.setupScript.value_or("")};
    const ImageStatus status = co_await builder.asyncBuildCustom(std::move(spec), false);
    if (status.built) info(fmt::format("[INFO] Built prebuilt image {}", status.tag));
  }
}

// Binds `port`; when it is taken, an OS-chosen free port instead (with a warning).
tcp::acceptor listen(asio::io_context& io, const ServerOptions& options) {
  boost::system::error_code bad;
  const auto address = asio::ip::make_address(options.bindAddress, bad);
  if (bad)
    throw std::runtime_error(fmt::format("Invalid --bind address: {} (expected an IP address such as 127.0.0.1 or 0.0.0.0)",
                                         options.bindAddress));
  tcp::acceptor acceptor(io);
  for (int port : {options.port, 0}) {
    boost::system::error_code ec;
    acceptor.open(address.is_v6() ? tcp::v6() : tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(tcp::endpoint(address, static_cast<unsigned short>(port)), ec);
    if (!ec) {
      acceptor.listen(asio::socket_base::max_listen_connections);
      if (port == 0)
        fmt::print(stderr, "[WARN] Port {} is in use. Falling back to available port {}.\n", options.port,
                   acceptor.local_endpoint().port());
      return acceptor;
    }
    acceptor.close();
    if (ec != asio::error::address_in_use)
      throw std::runtime_error(fmt::format("Cannot listen on {}:{}: {}{}", options.bindAddress, port, ec.message(),
                                           ec == boost::system::errc::address_not_available
                                               ? ". --bind must be an address of this machine (or 0.0.0.0 for all)"
                                               : ""));
  }
  throw std::runtime_error("no port to listen on");
}

// Descriptors kept for what is not a client connection: Docker connections of the engines,
// pools, sessions, the key database, the audit log.
constexpr rlim_t kReservedDescriptors = 256;

// Raises the open-files soft limit to the hard one (the common soft default of 1024 would be
// used up by idle clients), then lowers server.maxConnections to what fits in it.
void fitConnectionsToFileLimit(Config& config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  const rlim_t room = limit.rlim_cur > 2 * kReservedDescriptors ? limit.rlim_cur - kReservedDescriptors
                                                                : limit.rlim_cur / 2;
  if (static_cast<rlim_t>(config.server.maxConnections) > room) {
    fmt::print(stderr, "[WARN] server.maxConnections {} lowered to {} to fit the open-files limit ({})\n",
               config.server.maxConnections, room, limit.rlim_cur);
    config.server.maxConnections = static_cast<std::int64_t>(room);
  }
}

// How long accepting pauses when the process (or the system) is out of descriptors: the
// pending connection stays in the backlog, and retrying at once would only spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

asio::awaitable<void> acceptLoop(ServerState& state, tcp::acceptor& acceptor) {
  asio::steady_timer pause(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE, ENFILE, ENOBUFS, ...: nothing to gain by trying again at once.
      state.log.warning("accept: {}", ec.message());
      pause.expires_after(kAcceptBackoff);
      co_await pause.async_wait(as_tuple(use_awaitable));
      continue;
    }
    boost::system::error_code peerError;
    const auto peer = socket.remote_endpoint(peerError);
    // Past server.maxConnections or maxConnectionsPerIp: closed at once, no answer (an answer
    // would keep a descriptor for as long as a slow client takes to read it).
    std::optional<Ticket> slot;
    if (!peerError) slot = state.connections.admit(peer.address().to_string());
    if (!slot) continue;  // the socket closes as it goes out of scope
    socket.set_option(tcp::no_delay(true), peerError);
    asio::co_spawn(
        acceptor.get_executor(),
        [&state, s = std::move(socket), slot = std::move(*slot)]() mutable -> asio::awaitable<void> {
          try {
            co_await serveConnection(state, std::move(s));
          } catch (const std::exception& e) {
            state.log.debug("connection: {}", e.what());
          }
        },
        asio::detached);
  }
}

// Runs `task` every `interval` until the server stops.
asio::awaitable<void> every(std::chrono::milliseconds interval, std::function<asio::awaitable<void>()> task) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    if (auto [ec] = co_await timer.async_wait(as_tuple(use_awaitable)); ec) co_return;
    try {
      co_await task();
    } catch (const std::exception& e) {
      fmt::print(stderr, "[WARN] {}\n", e.what());
    }
  }
}

asio::awaitable<void> stopSessions(std::vector<std::shared_ptr<Session>> sessions) {
  for (auto& session : sessions) {
    try {
      co_await session->engine->asyncStop();
    } catch (const std::exception& e) {
      fmt::print(stderr, "[WARN] stopping session {}: {}\n", session->id, e.what());
    }
  }
}

}  // namespace

int runServer(ServerOptions options) {
  // --debug: the server's lines and its engines' (their options come from the config).
  if (options.debug) options.config.debug = true;
  const detail::Logger log(options.config.debug, {});
  fitConnectionsToFileLimit(options.config);
  asio::io_context io(1);
  std::unique_ptr<ServerState> state;
  std::optional<tcp::acceptor> acceptor;
  const std::chrono::milliseconds dockerTimeout(options.config.docker.timeoutMs);
  try {
    auto startup = asio::co_spawn(io, buildPrebuiltImages(options.config), asio::use_future);
    io.run();
    io.restart();
    startup.get();
    acceptor.emplace(listen(io, options));
    const std::string owner =
        serverOwner(options.config.source, options.bindAddress, acceptor->local_endpoint().port());
    // Before this run's engines take the owner's lock: a holder now is another live process.
    if (!detail::ownerAlive(owner)) {
      const std::vector<std::string> noLiveEngines;
      auto swept = asio::co_spawn(io, sweepLeftovers(owner, noLiveEngines, dockerTimeout, log), asio::use_future);
      io.run();
      io.restart();
      try {
        if (const int n = swept.get(); n > 0) info(fmt::format("[INFO] Removed {} container(s) left by an earlier run", n));
      } catch (const std::exception& e) {
        fmt::print(stderr, "[WARN] removing an earlier run's containers: {}\n", firstLine(e.what()));
      }
    }
    state = std::make_unique<ServerState>(io.get_executor(), options.config, options.masterKey, openKeys(options), owner);
  } catch (const std::exception& e) {
    fmt::print(stderr, "[ERR] {}\n", e.what());
    return 1;
  }

  const int port = acceptor->local_endpoint().port();
  const bool loopback = acceptor->local_endpoint().address().is_loopback();
  info(fmt::format("[INFO] isol8 server v{} listening on http://{}:{}", version(),
                   loopback ? "localhost" : options.bindAddress, port));
  info("       Auth: Bearer token required");
  if (state->keys) info(fmt::format("       Auth DB: {}", state->keys->describe()));

  log.debug("shared engine {} (label isol8.engine)", state->engines.engineIds().front());
  asio::co_spawn(io, acceptLoop(*state, *acceptor), asio::detached);
  // Warm pools fill in the background: the first requests may still start cold.
  asio::co_spawn(
      io,
      [&state]() -> asio::awaitable<void> {
        try {
          co_await state->engines.asyncStart(state->config.server.prewarm);
        } catch (const std::exception& e) {
          fmt::print(stderr, "[WARN] prewarming: {}\n", e.what());
        }
      },
      asio::detached);
  ServerState& s = *state;
  if (s.config.cleanup.autoPrune) {
    asio::co_spawn(io,
                   every(std::chrono::milliseconds(s.config.server.pruneIntervalMs),
                         [&s]() -> asio::awaitable<void> {
                           co_await stopSessions(s.sessions.removeIdle(nowMs() - s.config.cleanup.maxContainerAgeMs));
                         }),
                   asio::detached);
  }
  // Removals that failed (an engine outage) and engines retired since: their containers go.
  asio::co_spawn(io,
                 every(std::chrono::milliseconds(s.config.server.sweepIntervalMs),
                       [&s, dockerTimeout]() -> asio::awaitable<void> {
                         auto live = s.engines.engineIds();
                         for (auto& id : s.sessions.engineIds()) live.push_back(std::move(id));
                         co_await sweepLeftovers(s.owner, std::move(live), dockerTimeout, s.log);
                       }),
                 asio::detached);
  if (s.keys) {
    asio::co_spawn(io,
                   every(std::chrono::milliseconds(s.config.auth.cleanupIntervalMs),
                         [&s]() -> asio::awaitable<void> {
                           s.keys->cleanup();
                           co_return;
                         }),
                   asio::detached);
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    info("[INFO] Shutting down isol8 server...");
    acceptor->close();
    asio::co_spawn(
        io,
        [&s, dockerTimeout]() -> asio::awaitable<void> {
          co_await stopSessions(s.sessions.removeAll(std::nullopt));
          try {
            co_await s.engines.asyncStop();
          } catch (const std::exception& e) {
            fmt::print(stderr, "[WARN] stopping the engines: {}\n", e.what());
          }
          try {
            const std::vector<std::string> noLiveEngines;
            co_await sweepLeftovers(s.owner, noLiveEngines, dockerTimeout, s.log);  // whatever a failed removal left
          } catch (const std::exception& e) {
            fmt::print(stderr, "[WARN] removing leftover containers: {}\n", firstLine(e.what()));
          }
          s.keys.reset();
          info("[INFO] Server cleanup complete");
          // Every container is gone and the database is closed. Connections still open are
          // abandoned with the process: unwinding them (and engines they hold) buys nothing.
          std::fflush(nullptr);
          std::_Exit(0);
        },
        asio::detached);
  });
  io.run();
  return 0;
}

}  // namespace isol8::server
