// /auth/keys and /auth/login: the key database, for the master key only.
#include "server/routes/routes.hpp"
#include "server/state.hpp"
#include "util/text.hpp"

namespace isol8::server {

namespace json = boost::json;

namespace {

// The original's order of checks: master key first, then "is there a database".
auth::KeyStore& keyStoreFor(ServerState& state, const Caller& caller) {
  if (!caller.master) throw HttpError(403, "Master key required for this operation");
  if (!state.keys) throw HttpError(400, "DB-backed auth is not enabled");
  return *state.keys;
}

std::string optionalString(const json::object& body, std::string_view key) {
  const auto* value = body.if_contains(key);
  if (!value || value->is_null()) return {};
  if (!value->is_string()) throw HttpError(400, std::string(key) + " must be a string");
  return std::string(value->get_string());
}

std::int64_t ttlOf(const json::object& body, std::int64_t fallback) {
  const auto* value = body.if_contains("ttlMs");
  if (!value || value->is_null()) return fallback;
  if (value->is_int64() && value->get_int64() > 0) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() > 0) return static_cast<std::int64_t>(value->get_uint64());
  if (value->is_double() && value->get_double() >= 1 && value->get_double() < 9e15)
    return static_cast<std::int64_t>(value->get_double());
  throw HttpError(400, "ttlMs must be a positive number of milliseconds");
}

json::object recordJson(const auth::KeyRecord& r) {
  json::object o{{"id", r.id},
                 {"name", r.name},
                 {"keyPrefix", r.keyPrefix},
                 {"tenantId", r.tenantId},
                 {"createdAt", auth::isoTime(r.createdAt)},
                 {"expiresAt", auth::isoTime(r.expiresAt)},
                 {"revoked", r.revoked}};
  o["lastUsedAt"] = r.lastUsedAt ? json::value(auth::isoTime(*r.lastUsedAt)) : json::value(nullptr);
  return o;
}

}  // namespace

Response postAuthKeys(ServerState& state, const Caller& caller, const Request& request) {
  auto& keys = keyStoreFor(state, caller);
  const json::object body = bodyObject(request, true);
  const std::string name = optionalString(body, "name");
  if (name.empty()) throw HttpError(400, "name is required");
  const std::string tenant = optionalString(body, "tenantId");
  const auto key = keys.createKey(name, tenant.empty() ? auth::kDefaultTenant : tenant,
                                  ttlOf(body, state.config.auth.defaultTtlMs));
  return Response::json(201, json::object{{"id", key.id},
                                          {"key", key.key},
                                          {"name", key.name},
                                          {"keyPrefix", key.keyPrefix},
                                          {"tenantId", key.tenantId},
                                          {"expiresAt", auth::isoTime(key.expiresAt)}});
}

Response getAuthKeys(ServerState& state, const Caller& caller, const Request& request) {
  auto& keys = keyStoreFor(state, caller);
  std::optional<std::string> tenant;
  if (auto it = request.query.find("tenantId"); it != request.query.end() && !it->second.empty()) tenant = it->second;
  json::array list;
  for (const auto& record : keys.listKeys(tenant)) list.push_back(recordJson(record));
  return Response::json(200, json::object{{"keys", std::move(list)}});
}

Response deleteAuthKey(ServerState& state, const Caller& caller, const std::string& id) {
  auto& keys = keyStoreFor(state, caller);
  if (!keys.revokeKey(id)) throw HttpError(404, "Key not found");
  return Response::json(200, json::object{{"ok", true}, {"id", id}});
}

Response postAuthLogin(ServerState& state, const Caller& caller, const Request& request) {
  auto& keys = keyStoreFor(state, caller);
  const json::object body = bodyObject(request, true);
  std::string name = optionalString(body, "name");
  if (name.empty()) name = "login-" + detail::isoTimestampNow();
  const std::string tenant = optionalString(body, "tenantId");
  const auto key = keys.createKey(name, tenant.empty() ? auth::kDefaultTenant : tenant,
                                  ttlOf(body, state.config.auth.defaultTtlMs));
  return Response::json(
      200, json::object{{"token", key.key}, {"expiresAt", auth::isoTime(key.expiresAt)}, {"keyId", key.id}});
}

}  // namespace isol8::server
