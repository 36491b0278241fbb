// Remote code fetching (ExecutionRequest::codeUrl): the checks of network/remote_code_rules.hpp
// in their order, then an HTTP(S) GET. Each hop (the URL and every redirect target, at most
// 5 redirects) is checked against the policy — scheme, host lists, and the addresses its name
// resolves to — before it is contacted, and the connection goes to exactly the addresses
// that were checked (no second lookup, so no DNS rebinding). HTTPS verifies the server's
// certificate against the system trust store, for the URL's host name (SNI sent).
// policy.fetchTimeoutMs bounds the whole fetch, name lookups included; policy.maxCodeSize
// is enforced on Content-Length and while reading. Throws isol8::Error with the messages
// listed in remote_code_rules.hpp.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "isol8/network_policy.hpp"
#include "util/log.hpp"

namespace isol8::detail {

boost::asio::awaitable<std::string> fetchRemoteCode(const RemoteCodePolicy& policy, const std::string& url,
                                                    const std::string& codeHash, bool allowInsecure, Logger log);

}  // namespace isol8::detail
