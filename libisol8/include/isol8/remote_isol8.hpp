// RemoteIsol8: the Engine interface over an isol8-server's HTTP API (docs/http-api.md), so a
// program runs code on another machine's Docker with the same calls as with DockerIsol8.
// Every call is one HTTP/1.1 request (https:// too) with `Authorization: Bearer <apiKey>`.
// Streams use the WebSocket route first and fall back to server-sent events when the server
// does not upgrade; the engine then keeps using SSE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isol8/engine.hpp"
#include "isol8/error.hpp"
#include "isol8/options.hpp"

namespace isol8 {

struct RemoteOptions {
  std::string host;    // http://server:3000 or https://...; one trailing '/' is ignored
  std::string apiKey;  // the server's master key or a key it issued
  // A server-side session: its container lives across calls until stop() or deleteSession.
  // Without one every execute runs in a fresh container (and putFile/getFile are refused).
  std::optional<std::string> sessionId;
};

struct SessionInfo {
  std::string id;
  bool isActive = false;       // a run is in progress
  std::string lastAccessedAt;  // ISO 8601
};

// POST /auth/login: a new API key, issued by a server with database-backed keys.
struct LoginOptions {
  std::optional<std::string> name;  // default: the server's ("login-<time>")
  std::optional<std::int64_t> ttlMs;  // default: the server's (24 h)
};
struct LoginResult {
  std::string token;
  std::string expiresAt;  // ISO 8601
  std::string keyId;
};

// A request the server answered with an error status (status()), or that could not reach it
// (status() 0, code io_error). what() is the message to show, e.g.
// "Execution failed: Invalid API key".
class RemoteError : public Error {
 public:
  RemoteError(int status, const std::string& message)
      : Error(status == 0 ? errc::io_error : errc::server_error, message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

class RemoteIsol8 : public Engine {
 public:
  // `options`: the client-settable fields that differ from the defaults are sent with each
  // execute (the server clamps them to its policy); the rest is the server's choice.
  explicit RemoteIsol8(RemoteOptions remote, EngineOptions options = {});
  // Closes the connections of streams still running (the server stops those runs). Does not
  // delete the session: call stop() for that.
  ~RemoteIsol8() override;
  RemoteIsol8(const RemoteIsol8&) = delete;
  RemoteIsol8& operator=(const RemoteIsol8&) = delete;

  // GET /health; throws "Remote server health check failed: <status>".
  boost::asio::awaitable<void> asyncStart(StartOptions options = {}) override;
  // Ends the streams in flight and deletes the session (DELETE /session/<id>), if any.
  boost::asio::awaitable<void> asyncStop() override;
  // POST /execute; throws RemoteError "Execution failed: <server's error>".
  boost::asio::awaitable<ExecutionResult> asyncExecute(ExecutionRequest request) override;
  // Events as the server sends them; a server-side error arrives as an `error` event and the
  // stream still ends with an `exit` (code 1 when the server sent none). result() stays
  // nullopt: the wire carries events only. Destroying or cancelling the stream closes its
  // connection, which stops the run on the server.
  ExecutionStream executeStream(ExecutionRequest request) override;
  // Need a sessionId: Error(no_container) "File operations require a sessionId (persistent mode)".
  boost::asio::awaitable<void> asyncPutFile(std::string path, std::string content) override;
  boost::asio::awaitable<std::string> asyncGetFile(std::string path) override;

  boost::asio::awaitable<std::vector<SessionInfo>> asyncListSessions();
  boost::asio::awaitable<void> asyncDeleteSession(std::string id);
  // Needs the master key (the apiKey of this client).
  boost::asio::awaitable<LoginResult> asyncLogin(LoginOptions options = {});
  std::vector<SessionInfo> listSessions();
  void deleteSession(std::string id);
  LoginResult login(LoginOptions options = {});

  const RemoteOptions& remoteOptions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isol8
