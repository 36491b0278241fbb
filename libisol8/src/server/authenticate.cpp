#include "server/authenticate.hpp"

#include <algorithm>
#include <cctype>

#include "server/state.hpp"

namespace isol8::server {

namespace {

std::string_view tokenOf(std::string_view header) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  constexpr std::string_view kBearer = "bearer";
  if (header.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), header.begin(), [&](char a, char b) { return a == lower(b); }) &&
      (header[kBearer.size()] == ' ' || header[kBearer.size()] == '\t')) {
    header.remove_prefix(kBearer.size());
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  }
  return header;
}

}  // namespace

std::variant<Caller, Response> authenticate(ServerState& state, const Request& request) {
  if (request.authorization.find_first_not_of(" \t") == std::string::npos)
    return Response::error(401, "Missing Authorization header");
  const std::string_view token = tokenOf(request.authorization);
  if (auth::constantTimeEquals(token, state.masterKey)) return Caller{true, {}};
  if (state.keys) {
    if (auto record = state.keys->verify(token)) return Caller{false, record->tenantId};
  }
  return Response::error(403, "Invalid API key");
}

}  // namespace isol8::server
