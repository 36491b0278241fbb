// The server's policy over client options (decisions.md, "Server"): what a request's
// `options` may change, and the engine options a request then runs with. Pure logic.
#pragma once

#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "isol8/config.hpp"
#include "isol8/options.hpp"
#include "isol8/types.hpp"
#include "json/wire.hpp"

namespace isol8::server {

// Why `options` (or request.timeoutMs) asks for more than config.server allows, e.g.
//   options.network "host" is not allowed by this server
//   options.memoryLimit "4g" exceeds this server's maximum of "512m"
// nullopt when everything is within the policy. Throws Error(invalid_request) for a size option
// that is not a size ("25m6").
std::optional<std::string> policyViolation(const Config& config, const wire::ClientOptions& options,
                                           const ExecutionRequest& request);

// The options a request runs with: the server's (engineOptionsFrom(config)), with the
// client's `options` over them. The
// client cannot widen the network: the config's blacklist is kept in front of the client's,
// and `debug` is the server's to set. Call policyViolation first.
EngineOptions requestEngineOptions(const Config& config, wire::ClientOptions options);

// The checks of an execute envelope {request, options?, sessionId?} that need no engine:
// decoded, the request validated, the options within the policy; options.timeoutMs is folded
// into the request (a timeout is the request's business, not the container's). Throws
// HttpError 400 (malformed: the field named) or 403 (beyond the policy).
wire::ExecuteBody checkedExecuteBody(const Config& config, const boost::json::value& envelope);

}  // namespace isol8::server
