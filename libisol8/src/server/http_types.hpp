// What the server's routes see of HTTP: a parsed request and the response to send, without
// Beast types (Beast stays in http_transport.cpp), plus who is calling.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "isol8/run_canceller.hpp"

namespace isol8::server {

struct Request {
  std::string method;  // GET, POST, DELETE, ...
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;  // percent-decoded
  std::string authorization;
  std::string body;
  // Set by the transport when the client goes away before the answer: a buffered run then
  // stops (null: the transport does not watch).
  std::shared_ptr<RunCanceller> clientGone;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // more header fields (Retry-After, ...)

  static Response json(int status, const boost::json::value& body);
  // {"error": message}
  static Response error(int status, std::string_view message);
  // The original's answer to an unknown route or method: text "404 Not Found".
  static Response notFound();
  // {"error"} for what an engine call threw: 400 the request's own fault, 409 a session with
  // no container yet, 410 a session whose container is gone, 503 the Docker engine does not
  // answer (one line: the install guide is for a local user, not an HTTP client), else 500.
  static Response failure(const std::exception& e);
};

// The message Response::failure sends, for streams' error events.
std::string failureMessage(const std::exception& e);
// The session's container died or was removed outside isol8 (errc::container_gone).
bool isContainerGone(const std::exception& e);

// The authenticated caller. Sessions are owned by a caller: DB keys by their tenant, the
// master key by itself (owner() = nullopt), so one tenant never sees another's.
struct Caller {
  bool master = false;
  std::string tenantId;  // DB keys only
  std::string keyId;     // what rate limits count by: the DB key's id, or "master"
  std::optional<std::string> owner() const { return master ? std::nullopt : std::optional(tenantId); }
};

// Thrown by a route to answer with {"error": message} and this status.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// The JSON object of a request body: 400 "body must be valid JSON: ..." or "body must be a
// JSON object". An empty body reads as {} when `emptyIsObject`.
boost::json::object bodyObject(const Request& request, bool emptyIsObject = false);

// A Request from the parts of an HTTP request: `target` split at '?' into the decoded path
// and query.
Request makeRequest(std::string_view method, std::string_view target, std::string_view authorization,
                    std::string body);
// bodyObject for a body read once: its text is released as soon as it is parsed, so a large
// body is not held twice (text and JSON) while the request is built from it.
boost::json::object takeBodyObject(Request& request);

// Percent-decoding of a path segment or query value ('+' is a space in queries only).
std::string percentDecode(std::string_view text, bool plusIsSpace);
// Splits "a=1&b=x%20y" into decoded pairs (the last of repeated names wins).
std::map<std::string, std::string> parseQuery(std::string_view query);

}  // namespace isol8::server
