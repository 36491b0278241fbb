// Everything the routes share: configuration, keys, engines, sessions, the run permits.
// Lives on the server's one thread (server.cpp), so none of it needs a lock.
#pragma once

#include <memory>
#include <string>

#include "engine/request_validation.hpp"
#include "engine/semaphore.hpp"
#include "isol8/config.hpp"
#include "server/admission.hpp"
#include "server/audit_log.hpp"
#include "server/auth/key_store.hpp"
#include "server/engine_set.hpp"
#include "server/rate_limiter.hpp"
#include "server/sessions.hpp"
#include "util/log.hpp"

namespace isol8::server {

struct ServerState {
  ServerState(boost::asio::any_io_executor executor, Config config, std::string masterKey,
              std::unique_ptr<auth::KeyStore> keys, std::string owner)
      : config(std::move(config)),
        log(this->config.debug, LogSink()),
        owner(std::move(owner)),
        masterKey(std::move(masterKey)),
        keys(std::move(keys)),
        engines(executor, engineOptions(), static_cast<std::size_t>(this->config.server.maxEngines)),
        permits(this->config.maxConcurrent),
        audit(this->config.audit),
        maxBodyBytes(static_cast<std::uint64_t>(detail::parseSize(this->config.server.maxBodySize, "server.maxBodySize"))),
        connections(static_cast<std::uint64_t>(this->config.server.maxConnections),
                    static_cast<std::uint64_t>(this->config.server.maxConnectionsPerIp)),
        bodies(static_cast<std::uint64_t>(detail::parseSize(this->config.server.maxBodiesInFlight, "server.maxBodiesInFlight"))),
        rates(this->config.server.rateLimitPerMinute) {}

  // The engine options of the configuration, with this server's owner name (server/sweep.hpp).
  EngineOptions engineOptions() const {
    EngineOptions options = engineOptionsFrom(config);
    options.owner = owner;
    return options;
  }

  Config config;
  detail::Logger log;  // the server's own [DEBUG] lines (engines have theirs)
  std::string owner;  // label isol8.owner of every container of this server
  std::string masterKey;
  std::unique_ptr<auth::KeyStore> keys;  // null: database-backed keys are off
  EngineSet engines;
  SessionRegistry sessions;
  detail::AsyncSemaphore permits;  // maxConcurrent runs in flight, server-wide, first come first served
  AuditLog audit;
  // What clients may make the server hold (config.server; docs/security.md, "Starving the server").
  std::uint64_t maxBodyBytes;
  ConnectionLimiter connections;
  ByteBudget bodies;
  RateLimiter rates;  // per API key
};

}  // namespace isol8::server
