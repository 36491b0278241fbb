#include "server/auth/postgres_key_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>

#include "isol8/error.hpp"

namespace isol8::auth {
namespace {

// The original isol8's PostgreSQL schema (snake_case columns). The advisory lock makes two
// servers starting at once on an empty database take turns (concurrent CREATE TABLE IF NOT
// EXISTS can otherwise fail on the catalog's unique index).
constexpr const char* kSchema = R"sql(
BEGIN;
SELECT pg_advisory_xact_lock(7598645813254971448);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS idx_api_keys_key_hash ON api_keys(key_hash);
COMMIT;
)sql";

constexpr const char* kColumns =
    "id, name, key_prefix, tenant_id, created_at, expires_at, last_used_at, revoked";

struct PreparedStatement {
  const char* name;
  std::string sql;
  int params;
};

// Times are compared as text in the "C" collation: byte order, which for the fixed-width ISO
// form is time order whatever the database's locale.
const std::vector<PreparedStatement>& preparedStatements() {
  static const std::vector<PreparedStatement> all = {
      {"isol8_insert_key",
       "INSERT INTO api_keys (id, name, key_hash, key_prefix, tenant_id, created_at, expires_at, last_used_at, "
       "revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, FALSE)",
       7},
      {"isol8_touch_key",
       std::string("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 AND NOT revoked "
                   "AND expires_at COLLATE \"C\" >= $1 RETURNING ") +
           kColumns + ", key_hash",
       2},
      {"isol8_list_keys",
       std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY created_at COLLATE \"C\" DESC, id", 0},
      {"isol8_list_tenant_keys",
       std::string("SELECT ") + kColumns +
           " FROM api_keys WHERE tenant_id = $1 ORDER BY created_at COLLATE \"C\" DESC, id",
       1},
      {"isol8_revoke_key", "UPDATE api_keys SET revoked = TRUE WHERE id = $1", 1},
      {"isol8_cleanup_keys", "DELETE FROM api_keys WHERE revoked OR expires_at COLLATE \"C\" < $1", 1},
  };
  return all;
}

std::string percentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The passwords a connection string may carry, found without libpq (so that even libpq's
// complaint about a malformed string can be scrubbed): the URL's user-info password, a
// "password=" query parameter or keyword, each as written and percent-decoded.
std::vector<std::string> passwordsIn(const std::string& connection) {
  std::vector<std::string> found;
  const auto add = [&](const std::string& raw) {
    if (raw.empty()) return;
    found.push_back(raw);
    if (const std::string decoded = percentDecode(raw); decoded != raw) found.push_back(decoded);
  };
  if (const std::size_t scheme = connection.find("://"); scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t end = std::min(connection.find('/', start), connection.find('?', start));
    const std::string authority = connection.substr(start, end == std::string::npos ? end : end - start);
    if (const std::size_t at = authority.rfind('@'); at != std::string::npos) {
      const std::string userinfo = authority.substr(0, at);
      if (const std::size_t colon = userinfo.find(':'); colon != std::string::npos) add(userinfo.substr(colon + 1));
    }
  }
  // password=... in a URL query (ends at '&') or in key=value form (ends at a space; quoted
  // values end at the closing quote).
  for (std::size_t at = connection.find("password="); at != std::string::npos;
       at = connection.find("password=", at + 1)) {
    std::size_t start = at + 9;
    if (start < connection.size() && connection[start] == '\'') {
      const std::size_t close = connection.find('\'', start + 1);
      add(connection.substr(start + 1, close == std::string::npos ? close : close - start - 1));
    } else {
      add(connection.substr(start, connection.find_first_of("& ", start) - start));
    }
  }
  return found;
}

std::string oneLine(std::string text) {
  // libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...").
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// postgresql://user@host:port/dbname, from the parsed connection string: no password.
std::string redactedUrl(const std::string& connection, const std::function<std::string(std::string)>& scrub) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (!options) {
    const std::string message = error ? oneLine(error) : "out of memory";
    PQfreemem(error);
    throw Error(errc::invalid_request, "invalid PostgreSQL connection string: " + scrub(message));
  }
  std::string user, host, hostaddr, port, dbname;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string keyword = o->keyword;
    if (keyword == "user") user = o->val;
    if (keyword == "host") host = o->val;
    if (keyword == "hostaddr") hostaddr = o->val;
    if (keyword == "port") port = o->val;
    if (keyword == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  std::string text = "postgresql://";
  if (!user.empty()) text += user + "@";
  text += host.empty() ? hostaddr : host;
  if (!port.empty()) text += ":" + port;
  text += "/" + dbname;
  return scrub(text);
}

std::string scrubWith(const std::vector<std::string>& secrets, std::string text) {
  for (const std::string& secret : secrets) {
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace

void PostgresKeyStore::ResultDeleter::operator()(pg_result* r) const { PQclear(r); }

PostgresKeyStore::PostgresKeyStore(const std::string& connectionString, Clock now)
    : PostgresKeyStore(connectionString, std::move(now), passwordsIn(connectionString)) {}

PostgresKeyStore::PostgresKeyStore(const std::string& connectionString, Clock now, std::vector<std::string> secrets)
    : KeyStore(std::move(now),
               redactedUrl(connectionString, [&](std::string t) { return scrubWith(secrets, std::move(t)); })),
      secrets_(std::move(secrets)) {
  // Later keywords override the expanded connection string, earlier ones are overridden by
  // it: so the string's own connect_timeout or application_name win over these defaults.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "isol8-server", connectionString.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = conn_ ? oneLine(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw Error(errc::io_error, "cannot connect to the PostgreSQL auth database " + describe() + ": " + scrub(message));
  }
  // Silence NOTICEs ("relation already exists, skipping"), which libpq prints to stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  try {
    createSchema();
    prepareStatements();
  } catch (...) {
    PQfinish(conn_);
    conn_ = nullptr;
    throw;
  }
}

PostgresKeyStore::~PostgresKeyStore() { PQfinish(conn_); }

std::string PostgresKeyStore::scrub(std::string text) const { return scrubWith(secrets_, std::move(text)); }

void PostgresKeyStore::fail(const std::string& what, const std::string& detail) const {
  throw Error(errc::io_error, "PostgreSQL auth database " + describe() + ": " + what + ": " + scrub(oneLine(detail)));
}

void PostgresKeyStore::createSchema() {
  Result r(PQexec(conn_, kSchema));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    // Only the primary message: the DETAIL of an error can quote row values.
    const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    const std::string message = primary ? primary : PQerrorMessage(conn_);
    Result rollback(PQexec(conn_, "ROLLBACK"));
    fail("cannot create the api_keys table", message);
  }
}

void PostgresKeyStore::prepareStatements() {
  for (const PreparedStatement& s : preparedStatements()) {
    Result r(PQprepare(conn_, s.name, s.sql.c_str(), s.params, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
      fail("cannot prepare a statement", primary ? primary : PQerrorMessage(conn_));
    }
  }
}

PostgresKeyStore::Result PostgresKeyStore::run(const char* statement, const std::vector<std::string>& params,
                                               const std::string& what) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  for (int attempt = 0;; ++attempt) {
    Result r(PQexecPrepared(conn_, statement, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    if (attempt == 0 && PQstatus(conn_) == CONNECTION_BAD) {
      // The server went away (restart, failover): one fresh connection, then the same call.
      PQreset(conn_);
      if (PQstatus(conn_) != CONNECTION_OK) fail(what + " (reconnecting)", PQerrorMessage(conn_));
      prepareStatements();
      continue;
    }
    const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    fail(what, primary ? primary : PQerrorMessage(conn_));
  }
}

namespace {
// Columns in kColumns order.
KeyRecord recordAt(const pg_result* r, int row) {
  const auto text = [&](int column) { return std::string(PQgetvalue(r, row, column)); };
  std::optional<std::string> lastUsed;
  if (!PQgetisnull(r, row, 6)) lastUsed = text(6);
  return recordFromRow(text(0), text(1), text(2), text(3), text(4), text(5), lastUsed, text(7) == "t");
}
}  // namespace

void PostgresKeyStore::insertKey(const StoredKey& key) {
  const KeyRecord& k = key.record;
  run("isol8_insert_key",
      {k.id, k.name, key.keyHash, k.keyPrefix, k.tenantId, isoTime(k.createdAt), isoTime(k.expiresAt)},
      "cannot store the new key");
}

std::optional<KeyStore::StoredKey> PostgresKeyStore::touchValidKey(const std::string& keyHash,
                                                                   const std::string& nowIso) {
  const Result r = run("isol8_touch_key", {nowIso, keyHash}, "cannot verify a key");
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return StoredKey{recordAt(r.get(), 0), PQgetvalue(r.get(), 0, 8)};
}

std::vector<KeyRecord> PostgresKeyStore::selectKeys(const std::optional<std::string>& tenantId) {
  const Result r = tenantId ? run("isol8_list_tenant_keys", {*tenantId}, "cannot list keys")
                            : run("isol8_list_keys", {}, "cannot list keys");
  std::vector<KeyRecord> keys;
  for (int row = 0; row < PQntuples(r.get()); ++row) keys.push_back(recordAt(r.get(), row));
  return keys;
}

bool PostgresKeyStore::markRevoked(const std::string& id) {
  const Result r = run("isol8_revoke_key", {id}, "cannot revoke a key");
  return std::atoi(PQcmdTuples(r.get())) > 0;
}

int PostgresKeyStore::deleteRevokedAndExpired(const std::string& nowIso) {
  const Result r = run("isol8_cleanup_keys", {nowIso}, "cannot delete expired and revoked keys");
  return std::atoi(PQcmdTuples(r.get()));
}

}  // namespace isol8::auth
