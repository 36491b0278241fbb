// Who is calling: the Authorization header's token (a leading "Bearer " is optional, any
// case) checked against the master key, then the key database. Every route but /health.
#pragma once

#include <variant>

#include "server/http_types.hpp"

namespace isol8::server {

struct ServerState;

// The caller, or the answer to send instead:
//   401 {"error":"Missing Authorization header"}   no or empty header
//   403 {"error":"Invalid API key"}                 neither the master key nor a valid DB key
//   429 {"error":"Rate limit exceeded: ..."}        past server.rateLimitPerMinute for this key,
//                                                   with Retry-After (seconds)
std::variant<Caller, Response> authenticate(ServerState& state, const Request& request);

}  // namespace isol8::server
