#include "server/auth/key_store.hpp"

#include <openssl/crypto.h>

#include <chrono>

#include "isol8/error.hpp"
#include "server/auth/postgres_key_store.hpp"
#include "server/auth/sqlite_key_store.hpp"
#include "util/text.hpp"

namespace isol8::auth {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kKeyLength = kKeyMarker.size() + 2 * kSecretBytes;  // 70
// 9999-12-31T23:59:59.999Z: the last time the fixed-width ISO form (and so the text
// comparison in SQL) can hold.
constexpr std::int64_t kLastIsoTimeMs = 253'402'300'799'999;

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

std::int64_t systemNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string isoTime(std::int64_t epochMs) { return detail::isoTimestamp(epochMs); }

std::string keyPrefixOf(std::string_view key) { return std::string(key.substr(0, 10)) + "..."; }

bool hasKeyForm(std::string_view s) {
  if (s.size() != kKeyLength || !startsWith(s, kKeyMarker)) return false;
  for (char c : s.substr(kKeyMarker.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // Hashing first gives two equal-length digests, so neither the position of the first
  // difference nor a length mismatch shows in the time taken.
  const std::string ha = detail::sha256Hex(a);
  const std::string hb = detail::sha256Hex(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

bool isPostgresUrl(std::string_view connection) {
  return startsWith(connection, "postgres://") || startsWith(connection, "postgresql://");
}

KeyRecord recordFromRow(std::string id, std::string name, std::string keyPrefix, std::string tenantId,
                        const std::string& createdAt, const std::string& expiresAt,
                        const std::optional<std::string>& lastUsedAt, bool revoked) {
  KeyRecord r;
  r.id = std::move(id);
  r.name = std::move(name);
  r.keyPrefix = std::move(keyPrefix);
  r.tenantId = std::move(tenantId);
  r.createdAt = detail::parseIsoTimestamp(createdAt).value_or(0);
  r.expiresAt = detail::parseIsoTimestamp(expiresAt).value_or(0);
  if (lastUsedAt) r.lastUsedAt = detail::parseIsoTimestamp(*lastUsedAt).value_or(0);
  r.revoked = revoked;
  return r;
}

KeyStore::KeyStore(Clock now, std::string description)
    : now_(now ? std::move(now) : Clock(systemNowMs)), description_(std::move(description)) {}

KeyStore::~KeyStore() = default;

CreatedKey KeyStore::createKey(const std::string& name, const std::string& tenantId, std::int64_t ttlMs) {
  if (name.empty()) throw Error(errc::invalid_request, "name is required");
  if (ttlMs <= 0) throw Error(errc::invalid_request, "ttlMs must be a positive number of milliseconds");
  std::lock_guard lock(mutex_);
  const std::int64_t now = now_();
  if (ttlMs > kLastIsoTimeMs - now) throw Error(errc::invalid_request, "ttlMs is too large (expiry after the year 9999)");

  StoredKey k;
  const std::string plain = std::string(kKeyMarker) + detail::randomHex(kSecretBytes);
  k.keyHash = detail::sha256Hex(plain);
  k.record.id = detail::newUuidV4();
  k.record.name = name;
  k.record.keyPrefix = keyPrefixOf(plain);
  k.record.tenantId = tenantId.empty() ? kDefaultTenant : tenantId;
  k.record.createdAt = now;
  k.record.expiresAt = now + ttlMs;
  insertKey(k);
  return CreatedKey{k.record.id, plain, k.record.name, k.record.keyPrefix, k.record.tenantId, k.record.expiresAt};
}

std::optional<KeyRecord> KeyStore::verify(std::string_view plainKey) {
  // Anything not of the key's form cannot match a stored hash: answer without a query.
  if (!hasKeyForm(plainKey)) return std::nullopt;
  const std::string hash = detail::sha256Hex(plainKey);
  std::lock_guard lock(mutex_);
  const std::int64_t now = now_();
  std::optional<StoredKey> found = touchValidKey(hash, isoTime(now));
  // The query already matched on the hash and checked revocation and expiry; checking again
  // here costs nothing and keeps a wrong row (or an unparseable stored time) from passing.
  if (!found || !constantTimeEquals(found->keyHash, hash)) return std::nullopt;
  if (found->record.revoked || found->record.expiresAt < now) return std::nullopt;
  return std::move(found->record);
}

std::vector<KeyRecord> KeyStore::listKeys(const std::optional<std::string>& tenantId) {
  std::lock_guard lock(mutex_);
  return selectKeys(tenantId);
}

bool KeyStore::revokeKey(const std::string& id) {
  std::lock_guard lock(mutex_);
  return markRevoked(id);
}

int KeyStore::cleanup() {
  std::lock_guard lock(mutex_);
  return deleteRevokedAndExpired(isoTime(now_()));
}

std::unique_ptr<KeyStore> openKeyStore(const std::string& connection, Clock now) {
  if (connection.empty()) throw Error(errc::invalid_request, "the auth database connection string is empty");
  if (isPostgresUrl(connection)) return std::make_unique<PostgresKeyStore>(connection, std::move(now));
  if (startsWith(connection, "mysql://")) {
    throw Error(errc::not_supported,
                "MySQL auth databases are not supported; use a SQLite file path or a postgres:// URL");
  }
  // "scheme://" (letters, digits, + - . before "://") is a URL this build cannot open; as a
  // SQLite path it would quietly create a directory named "scheme:".
  const std::size_t sep = connection.find("://");
  if (sep != std::string::npos && sep > 0 &&
      connection.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") == sep) {
    throw Error(errc::invalid_request, "unsupported auth database URL scheme \"" + connection.substr(0, sep) +
                                           "://\"; use a SQLite file path or a postgres:// URL");
  }
  return std::make_unique<SqliteKeyStore>(connection, std::move(now));
}

}  // namespace isol8::auth
