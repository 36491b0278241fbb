// Database-backed API keys for isol8-server: creation, verification, listing, revocation and
// cleanup, over SQLite (the embedded default) or PostgreSQL (shared deployments).
//
// A key is "isol8_" + 64 lower-case hex characters (32 bytes from the kernel's CSPRNG). Only
// its SHA-256 is stored; the plain key is returned once, by createKey. Timestamps are stored as
// ISO-8601 text (2026-03-01T12:00:00.000Z) in the original isol8's schema, so a database the
// original wrote can be opened; in C++ they are epoch milliseconds (isoTime() gives the text).
//
// Every call is serialised by the store (one database connection), so a store can be shared
// by the server's threads. Failures throw isol8::Error (io_error for the database,
// invalid_request for bad arguments, not_supported for MySQL); messages name the database's
// file or host but never a password.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::auth {

// The store's clock, epoch milliseconds. Injected so tests can move time without sleeping.
using Clock = std::function<std::int64_t()>;
std::int64_t systemNowMs();

inline constexpr std::int64_t kDefaultTtlMs = 86'400'000;  // 24 h, auth.defaultTtlMs
inline constexpr const char* kDefaultTenant = "default";
inline constexpr std::string_view kKeyMarker = "isol8_";

// The text form used on the wire and in the database: 2026-03-01T12:00:00.000Z.
std::string isoTime(std::int64_t epochMs);

// What listKeys and verify return (the original's ApiKeyInfo): never the key or its hash.
struct KeyRecord {
  std::string id;         // UUID v4
  std::string name;
  std::string keyPrefix;  // first 10 characters of the key + "...", e.g. "isol8_4f3c..."
  std::string tenantId;
  std::int64_t createdAt = 0;
  std::int64_t expiresAt = 0;
  std::optional<std::int64_t> lastUsedAt;
  bool revoked = false;
};

// What createKey returns: the only time the plain key is available.
struct CreatedKey {
  std::string id;
  std::string key;  // plain text: show it once, never log or store it
  std::string name;
  std::string keyPrefix;
  std::string tenantId;
  std::int64_t expiresAt = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // A new key valid for ttlMs (> 0) from now. An empty tenantId means "default"; an empty
  // name is an invalid_request error.
  CreatedKey createKey(const std::string& name, const std::string& tenantId = kDefaultTenant,
                       std::int64_t ttlMs = kDefaultTtlMs);

  // The key's record when the key exists, is not revoked and has not expired (it is valid up
  // to and including its expiresAt millisecond); also sets its lastUsedAt to now. nullopt for
  // anything else, including strings that are not of the key's form.
  std::optional<KeyRecord> verify(std::string_view plainKey);

  // All keys, or those of one tenant; newest first. Revoked keys stay listed (revoked = true)
  // until cleanup deletes them.
  std::vector<KeyRecord> listKeys(const std::optional<std::string>& tenantId = std::nullopt);

  // Marks the key revoked. false when no key has this id (never existed, or cleaned up);
  // revoking a revoked key again is true.
  bool revokeKey(const std::string& id);

  // Deletes the revoked and the expired keys; returns how many.
  int cleanup();

  // The database, for logs and banners, without any password: "sqlite:/var/lib/isol8/auth.db",
  // "postgresql://isol8@db.internal:5432/isol8".
  const std::string& describe() const { return description_; }

 protected:
  KeyStore(Clock now, std::string description);

  struct StoredKey {
    KeyRecord record;
    std::string keyHash;  // SHA-256 hex of the plain key
  };

  // The database operations; called one at a time (under the store's mutex). Times are ISO
  // text, compared as text in SQL: the fixed-width form sorts like the time it denotes.
  virtual void insertKey(const StoredKey& key) = 0;
  // Sets lastUsedAt = nowIso on the key with this hash if it is not revoked and its expiresAt
  // is not before nowIso, and returns that key; nullopt when no such key.
  virtual std::optional<StoredKey> touchValidKey(const std::string& keyHash, const std::string& nowIso) = 0;
  virtual std::vector<KeyRecord> selectKeys(const std::optional<std::string>& tenantId) = 0;
  virtual bool markRevoked(const std::string& id) = 0;
  virtual int deleteRevokedAndExpired(const std::string& nowIso) = 0;

 private:
  Clock now_;
  std::string description_;
  std::mutex mutex_;
};

// Builds a KeyRecord from a database row's text columns. A timestamp that does not parse
// reads as 0 (1970), so such a key counts as expired: it fails closed.
KeyRecord recordFromRow(std::string id, std::string name, std::string keyPrefix, std::string tenantId,
                        const std::string& createdAt, const std::string& expiresAt,
                        const std::optional<std::string>& lastUsedAt, bool revoked);

// Opens the store a connection string names, as the original's --auth-db does:
// "postgres://..." or "postgresql://..." is PostgreSQL, "mysql://..." is refused
// (not_supported), any other "scheme://..." is refused as a likely typo (invalid_request), and
// anything else is a SQLite file path (its parent directory is created).
std::unique_ptr<KeyStore> openKeyStore(const std::string& connection, Clock now = systemNowMs);

// Helpers, public for the server and the tests.
bool isPostgresUrl(std::string_view connection);
std::string keyPrefixOf(std::string_view key);  // first 10 characters + "..."
bool hasKeyForm(std::string_view s);             // "isol8_" + 64 lower-case hex
// Compares secrets in time that depends on neither their contents nor their lengths (both are
// hashed first), for the master key and for key hashes.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace isol8::auth
