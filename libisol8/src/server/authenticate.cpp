#include "server/authenticate.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

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

// The key's owner, or the answer for a token that is no key.
std::variant<Caller, Response> identify(ServerState& state, const Request& request) {
  if (request.authorization.find_first_not_of(" \t") == std::string::npos)
    return Response::error(401, "Missing Authorization header");
  const std::string_view token = tokenOf(request.authorization);
  if (auth::constantTimeEquals(token, state.masterKey)) return Caller{true, {}, "master"};
  if (state.keys) {
    if (auto record = state.keys->verify(token)) return Caller{false, record->tenantId, record->id};
  }
  return Response::error(403, "Invalid API key");
}

}  // namespace

std::variant<Caller, Response> authenticate(ServerState& state, const Request& request) {
  auto who = identify(state, request);
  const auto* caller = std::get_if<Caller>(&who);
  if (!caller) return who;
  if (const std::int64_t wait = state.rates.admit(caller->keyId); wait > 0) {
    Response refusal = Response::error(
        429, fmt::format("Rate limit exceeded: this key may make {} requests per minute (server.rateLimitPerMinute)",
                         state.config.server.rateLimitPerMinute));
    refusal.headers["Retry-After"] = std::to_string(wait);
    return refusal;
  }
  return who;
}

}  // namespace isol8::server
