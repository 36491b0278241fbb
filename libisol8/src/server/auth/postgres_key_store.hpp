// API keys in PostgreSQL, for deployments where several servers share one key database
// (--auth-db postgresql://user:password@host:5432/db). Any libpq connection string works.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/auth/key_store.hpp"

struct pg_conn;
struct pg_result;

namespace isol8::auth {

class PostgresKeyStore final : public KeyStore {
 public:
  // Connects (10 s connect timeout unless the string sets connect_timeout) and creates the
  // api_keys table if it is missing. Errors name the host, port, database and user, never the
  // password.
  explicit PostgresKeyStore(const std::string& connectionString, Clock now = systemNowMs);
  ~PostgresKeyStore() override;

 protected:
  void insertKey(const StoredKey& key) override;
  std::optional<StoredKey> touchValidKey(const std::string& keyHash, const std::string& nowIso) override;
  std::vector<KeyRecord> selectKeys(const std::optional<std::string>& tenantId) override;
  bool markRevoked(const std::string& id) override;
  int deleteRevokedAndExpired(const std::string& nowIso) override;

 private:
  struct ResultDeleter {
    void operator()(pg_result* r) const;
  };
  using Result = std::unique_ptr<pg_result, ResultDeleter>;

  PostgresKeyStore(const std::string& connectionString, Clock now, std::vector<std::string> secrets);
  void createSchema();
  void prepareStatements();
  // Runs a prepared statement; reconnects once when the connection was lost (a database
  // restart). Throws io_error naming `what` when it fails.
  Result run(const char* statement, const std::vector<std::string>& params, const std::string& what);
  [[noreturn]] void fail(const std::string& what, const std::string& detail) const;
  std::string scrub(std::string text) const;  // removes the password from libpq's messages

  std::vector<std::string> secrets_;  // the password, as written and as decoded
  pg_conn* conn_ = nullptr;
};

}  // namespace isol8::auth
