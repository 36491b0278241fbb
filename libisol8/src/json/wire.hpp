// The JSON wire format of the public types: what isol8-server reads and writes and what
// RemoteIsol8 sends and parses. Keys are the original isol8's camelCase names
// (docs/http-api.md, "Wire format").
//
// Reading: unknown keys are ignored; a key whose value is null counts as absent; a value of
// the wrong type is refused with Error(errc::invalid_request, "<path> must be <what>"), the
// path naming the field as a JavaScript expression would: request.timeoutMs,
// request.outputPaths[2], request.files["/sandbox/a.bin"], options.security.seccomp.
//
// Writing: strings that are not well-formed UTF-8 (program output can be anything) have each
// ill-formed sequence replaced by U+FFFD, as the original's Buffer.toString does, so the
// JSON text is always valid. Bytes that must arrive intact travel as base64: result `files`
// always, request `files` whenever the content is not UTF-8 text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "isol8/network_policy.hpp"
#include "isol8/options.hpp"
#include "isol8/types.hpp"

namespace isol8::wire {

// The `options` object of an execute envelope (the original's Isol8Options), as the client
// sent it: a field is set only when the client gave it, so the server can tell "asked for
// the default" from "said nothing" when it clamps the options against its policy.
// Accepted and ignored (server-controlled, as in the original): mode, poolStrategy,
// poolSize, audit, remoteCode.
struct ClientOptions {
  std::optional<NetworkMode> network;
  std::optional<NetworkFilter> networkFilter;  // whitelist, blacklist, allowedAddresses
  std::optional<double> cpuLimit;
  std::optional<std::string> memoryLimit;
  std::optional<std::int64_t> pidsLimit;
  std::optional<bool> readonlyRootFs;  // no EngineOptions field: the root is always read-only here
  std::optional<std::int64_t> maxOutputSize;
  std::optional<std::map<std::string, std::string>> secrets;
  std::optional<std::int64_t> timeoutMs;
  std::optional<std::string> image;
  std::optional<std::string> sandboxSize;
  std::optional<std::string> tmpSize;
  std::optional<bool> debug;
  std::optional<bool> persist;
  std::optional<bool> logNetwork;
  std::optional<SeccompMode> seccomp;             // security.seccomp
  std::optional<std::string> customProfilePath;  // security.customProfilePath

  bool operator==(const ClientOptions&) const = default;
};

// The body of POST /execute and POST /execute/stream, and the WebSocket `execute` message
// (whose "type" key the reader ignores and the writer does not add).
struct ExecuteBody {
  ExecutionRequest request;
  ClientOptions options;
  std::optional<std::string> sessionId;
  // An extension (not in the original): a stream ends with a `result` event after its last
  // `exit` (resultEventJson). Asked for, because the original client hands every event it
  // does not know to its program, which expects `data` in each.
  bool resultEvent = false;
};

// ---- text -----------------------------------------------------------------------------

// Parses JSON text (strict: UTF-8, no comments, no trailing commas). Refused:
//   Error(invalid_request, "<what> must be valid JSON: <parser's reason>")
boost::json::value parse(std::string_view text, std::string_view what = "body");

// ---- writing --------------------------------------------------------------------------

// runtime always; other fields only when set (non-empty, or engaged optionals); `files`
// values as text when they are UTF-8, else {"base64": "..."}.
boost::json::object toJson(const ExecutionRequest& request);
// stdout, stderr, exitCode, durationMs, truncated, executionId, runtime, timestamp,
// containerId, timedOut, oomKilled, then files (path -> base64), networkLogs and
// securityEvents, each only when non-empty.
boost::json::object toJson(const ExecutionResult& result);
boost::json::object toJson(const ResourceUsage& usage);  // an extension of the original's result
// {"type":"stdout","data":"...","phase":"code"}. includePhase=false drops "phase", as the
// original server does for its own error events.
boost::json::object toJson(const StreamEvent& event, bool includePhase = true);
// {"type":"result","result":<toJson(result)>}: the extension event that ends a stream whose
// envelope asked for it (ExecuteBody::resultEvent).
boost::json::object resultEventJson(const ExecutionResult& result);
// timestamp, method, host, path (null when absent), action, durationMs.
boost::json::object toJson(const NetworkLogEntry& entry);
// type, message, details, timestamp.
boost::json::object toJson(const SecurityEvent& event);
// Only the fields that are set; security as {"seccomp", "customProfilePath"}.
boost::json::object toJson(const ClientOptions& options);
// {"request": ..., "options": ... (when any is set), "sessionId": ... (when set),
// "resultEvent": true (when set)}
boost::json::object toJson(const ExecuteBody& body);

// ---- reading --------------------------------------------------------------------------
// `path` names the value in error messages.

// runtime (required string) and the other ExecutionRequest fields; timeoutMs a positive
// integer; env/metadata objects of strings; files: path -> string or {"base64": string}.
ExecutionRequest requestFromJson(const boost::json::value& value, std::string_view path = "request");
// Every field optional (missing ones keep ExecutionResult's defaults, so results of the
// original server, without timedOut/oomKilled, read fine); files values must be base64.
ExecutionResult resultFromJson(const boost::json::value& value, std::string_view path = "result");
// type (required: stdout, stderr, exit, error), data (required string), phase (optional:
// setup or code; absent means code).
StreamEvent streamEventFromJson(const boost::json::value& value, std::string_view path = "event");
// The result carried by a `result` event (resultEventJson); nullopt for any other event.
std::optional<ExecutionResult> resultOfEvent(const boost::json::value& value, std::string_view path = "event");
NetworkLogEntry networkLogFromJson(const boost::json::value& value, std::string_view path = "networkLog");
SecurityEvent securityEventFromJson(const boost::json::value& value, std::string_view path = "securityEvent");
ClientOptions clientOptionsFromJson(const boost::json::value& value, std::string_view path = "options");
// {"request": object (required), "options"?: object, "sessionId"?: string ("" counts as no
// session, as in the original), "resultEvent"?: boolean}; errors
// name "request.…", "options.…", "sessionId", or "body" when the body is not an object.
ExecuteBody executeBodyFromJson(const boost::json::value& value);

// ---- options <-> EngineOptions -----------------------------------------------------------

// The client-settable fields of `options` that differ from a default EngineOptions (what a
// RemoteIsol8 built from EngineOptions sends; the server's own defaults fill the rest).
ClientOptions clientOptionsFrom(const EngineOptions& options);
// Writes the set fields over `options` (readonlyRootFs has no EngineOptions field and is
// left to the caller). The server clamps first, then applies.
void applyClientOptions(const ClientOptions& client, EngineOptions& options);

}  // namespace isol8::wire
