// API keys in a SQLite file: the embedded default (--auth-db ./auth.db).
#pragma once

#include <memory>
#include <string>

#include "server/auth/key_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace isol8::auth {

class SqliteKeyStore final : public KeyStore {
 public:
  // Opens (creating when missing, with mode 0600, its parent directories with 0700) the
  // database file at `path`, switches it to WAL, and creates the api_keys table if needed.
  explicit SqliteKeyStore(const std::string& path, Clock now = systemNowMs);
  ~SqliteKeyStore() override;

  const std::string& path() const { return path_; }

 protected:
  void insertKey(const StoredKey& key) override;
  std::optional<StoredKey> touchValidKey(const std::string& keyHash, const std::string& nowIso) override;
  std::vector<KeyRecord> selectKeys(const std::optional<std::string>& tenantId) override;
  bool markRevoked(const std::string& id) override;
  int deleteRevokedAndExpired(const std::string& nowIso) override;

 private:
  struct Statements;
  [[noreturn]] void fail(const std::string& what) const;
  void close() noexcept;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> st_;
};

}  // namespace isol8::auth
