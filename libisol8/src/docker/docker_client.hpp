// DockerClient: the Docker Engine API over HTTP/1.1 (unix socket by default, DOCKER_HOST
// honoured: unix:// and tcp://). Every call opens its own connection, so calls may run
// concurrently. Beast stays inside docker_client.cpp; this header shows only Asio and JSON.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "isol8/error.hpp"

namespace isol8::detail {

// An error response of the engine: the HTTP status plus the engine's message.
class DockerApiError : public Error {
 public:
  DockerApiError(unsigned status, const std::string& message) : Error(errc::docker_error, message), status_(status) {}
  unsigned status() const { return status_; }

 private:
  unsigned status_;
};

struct DockerEndpoint {
  enum class Kind { unix_socket, tcp } kind = Kind::unix_socket;
  std::string path = "/var/run/docker.sock";  // unix
  std::string host;                            // tcp
  std::string port;
  // From DOCKER_HOST (unset: the default socket). Throws Error(invalid_request) otherwise.
  static DockerEndpoint fromEnvironment();
  std::string describe() const;
};

// The hijacked connection of a started exec or an attach: raw multiplexed output in, stdin out.
class ExecConnection {
 public:
  virtual ~ExecConnection() = default;
  // Reads some raw bytes into `buffer`; 0 at end of stream.
  virtual boost::asio::awaitable<std::size_t> readSome(char* buffer, std::size_t size) = 0;
  virtual boost::asio::awaitable<void> write(std::string_view data) = 0;
  // Half-closes the connection: the process sees end of file on its stdin.
  virtual void closeStdin() = 0;
  // Aborts the connection (pending reads end).
  virtual void close() = 0;
};

struct ExecState {
  bool running = false;
  std::optional<int> exitCode;
  std::int64_t pid = 0;
};

// EngineOptions::dockerTimeoutMs's default.
inline constexpr std::chrono::milliseconds kDefaultDockerTimeout{30000};
// Image build, pull and import stream progress: the longest silence they may have (or the
// timeout, when that is longer).
inline constexpr std::chrono::milliseconds kBuildQuietLimit{600000};

class DockerClient {
 public:
  using LineHandler = std::function<void(std::string_view)>;

  // `timeout`: the longest any call may take (streams: the longest silence; hijacked
  // connections: the handshake); past it the call throws Error(docker_unavailable).
  explicit DockerClient(DockerEndpoint endpoint = DockerEndpoint::fromEnvironment(),
                        std::chrono::milliseconds timeout = kDefaultDockerTimeout);

  // Throws Error(docker_unavailable) when nothing answers at the endpoint.
  boost::asio::awaitable<void> ping();
  boost::asio::awaitable<boost::json::object> version();

  // Images
  boost::asio::awaitable<std::optional<boost::json::object>> inspectImage(const std::string& name);
  boost::asio::awaitable<boost::json::array> listImages(const boost::json::object& filters);
  // POST /build with a tar context; `query` is the already-encoded query string. Progress
  // lines (the "stream" texts) go to `onLine`; a build error throws Error(image_build_failed).
  boost::asio::awaitable<void> buildImage(std::string contextTar, const std::string& query, LineHandler onLine);
  // POST /images/create?fromSrc=- with the tar file at `tarPath` as the image's only layer.
  boost::asio::awaitable<void> importImage(const std::string& tarPath, const std::string& repo, const std::string& tag,
                                           const std::vector<std::string>& changes);
  // POST /images/create?fromImage=...; throws on failure (e.g. no registry reachable).
  boost::asio::awaitable<void> pullImage(const std::string& image, const std::string& tag, LineHandler onLine);
  boost::asio::awaitable<void> removeImage(const std::string& name, bool force);
  // POST /images/prune: removes dangling images matching `filters`.
  boost::asio::awaitable<void> pruneImages(const boost::json::object& filters);

  // Containers
  boost::asio::awaitable<std::string> createContainer(const boost::json::object& spec, const std::string& name = {});
  boost::asio::awaitable<void> startContainer(const std::string& id);
  boost::asio::awaitable<boost::json::object> inspectContainer(const std::string& id);
  boost::asio::awaitable<void> killContainer(const std::string& id, const std::string& signal = "KILL");
  // Force-removes, asking until it is gone (up to ~3 s); one already gone is not an error.
  boost::asio::awaitable<void> removeContainer(const std::string& id);
  boost::asio::awaitable<boost::json::array> listContainers(const boost::json::object& filters, bool all = true);
  // Attaches to a container's stdin, stdout and stderr (before start, so nothing is missed):
  // the same kind of hijacked connection as an exec's. With OpenStdin and StdinOnce, closing it
  // ends the container's stdin.
  boost::asio::awaitable<std::unique_ptr<ExecConnection>> attachContainer(const std::string& id);
  // Waits until the container stops; returns its exit code.
  boost::asio::awaitable<std::int64_t> waitContainer(const std::string& id);

  // The engine's event stream (GET /events) between two Unix times, each event to `onEvent`.
  // Returns when the engine closes the stream at `until`.
  boost::asio::awaitable<void> events(const boost::json::object& filters, std::int64_t since, std::int64_t until,
                                      const std::function<void(const boost::json::object&)>& onEvent);

  // Execs
  boost::asio::awaitable<std::string> createExec(const std::string& containerId, const boost::json::object& spec);
  boost::asio::awaitable<std::unique_ptr<ExecConnection>> startExec(const std::string& execId);
  boost::asio::awaitable<ExecState> inspectExec(const std::string& execId);

  // Archives (tar) in and out of a container.
  boost::asio::awaitable<void> putArchive(const std::string& id, const std::string& path, std::string tar);
  boost::asio::awaitable<std::string> getArchive(const std::string& id, const std::string& path);

  const DockerEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Response {
    unsigned status = 0;
    std::string body;
  };
  boost::asio::awaitable<Response> request(std::string_view method, const std::string& target, std::string body = {},
                                           std::string_view contentType = "application/json");
  boost::asio::awaitable<Response> checked(std::string_view method, const std::string& target, std::string body = {},
                                           std::string_view contentType = "application/json");
  boost::asio::awaitable<void> streamLines(std::string_view method, const std::string& target, std::string body,
                                           std::string_view contentType, const std::function<void(const boost::json::object&)>& onMessage,
                                           std::chrono::milliseconds quietLimit);

  std::chrono::milliseconds buildQuietLimit() const;

  DockerEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

// The API prefix every request uses (Docker 20.10 speaks 1.41; newer engines accept it too).
inline constexpr std::string_view kDockerApiPrefix = "/v1.41";

// The message for an engine that does not answer, with how to start one.
std::string dockerUnavailableMessage(const DockerEndpoint& endpoint, const std::string& cause);

}  // namespace isol8::detail
