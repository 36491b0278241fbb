#include "server/auth/sqlite_key_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "isol8/error.hpp"

namespace isol8::auth {
namespace {

// The original isol8's schema (camelCase columns), so its databases open here and back.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  keyHash TEXT NOT NULL UNIQUE,
  keyPrefix TEXT NOT NULL,
  tenantId TEXT NOT NULL,
  createdAt TEXT NOT NULL,
  expiresAt TEXT NOT NULL,
  lastUsedAt TEXT,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_api_keys_keyHash ON api_keys(keyHash);
)sql";

constexpr const char* kColumns = "id, name, keyPrefix, tenantId, createdAt, expiresAt, lastUsedAt, revoked";

// One prepared statement, finalised with the store.
struct Statement {
  sqlite3_stmt* handle = nullptr;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(handle); }
};

// One use of a prepared statement: parameters bound for it, reset and unbound when it ends
// (also when it ends by an exception), so the next use starts clean.
class Use {
 public:
  explicit Use(const Statement& s) : s_(s.handle) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  // The text must outlive the use (SQLITE_STATIC: not copied).
  bool bind(int index, const std::string& text) {
    return sqlite3_bind_text(s_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC) == SQLITE_OK;
  }
  int step() { return sqlite3_step(s_); }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, column))) : std::string();
  }
  std::optional<std::string> optionalText(int column) const {
    if (sqlite3_column_type(s_, column) == SQLITE_NULL) return std::nullopt;
    return text(column);
  }
  // Columns in kColumns order.
  KeyRecord record() const {
    return recordFromRow(text(0), text(1), text(2), text(3), text(4), text(5), optionalText(6),
                         sqlite3_column_int64(s_, 7) != 0);
  }

 private:
  sqlite3_stmt* s_;
};

// mkdir -p of the directories above `path`; new ones are private to the user (0700).
void createParentDirectories(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Error(errc::io_error, "cannot create the directory " + dir + " for the auth database: " + std::strerror(errno));
    }
  }
}

}  // namespace

struct SqliteKeyStore::Statements {
  Statement insert, touch, listAll, listTenant, revoke, cleanup;
};

SqliteKeyStore::SqliteKeyStore(const std::string& path, Clock now)
    : KeyStore(std::move(now), "sqlite:" + path), path_(path) {
  if (path.empty()) throw Error(errc::invalid_request, "the auth database path is empty");
  createParentDirectories(path);
  // The file is created here, not by SQLite, so that it is never readable by others, not even
  // for a moment (SQLite would use 0644). SQLite gives the -wal and -shm files the same mode.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(errc::io_error, "cannot open the auth database " + path + ": " + std::strerror(errno));
  ::close(fd);

  const auto openFailed = [&] {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    close();
    throw Error(errc::io_error, "cannot open the auth database " + path + ": " + message);
  };
  // No SQLITE_OPEN_CREATE: the file exists now, and if it vanished SQLite must not recreate it
  // with a wider mode. NOMUTEX: the KeyStore base serialises every use of the connection.
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    openFailed();
  }
  sqlite3_extended_result_codes(db_, 1);
  // Other processes (a second server, the CLI) may hold the write lock for a moment.
  sqlite3_busy_timeout(db_, 5000);
  // WAL: readers do not block the writer. synchronous=NORMAL: in WAL mode the database cannot
  // be corrupted by a crash, and a commit (every verify writes lastUsedAt) needs no fsync; a
  // power loss may forget the last moments' writes.
  if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr,
                   nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    openFailed();
  }

  st_ = std::make_unique<Statements>();
  const std::string select = std::string("SELECT ") + kColumns + " FROM api_keys ";
  const std::pair<Statement*, std::string> statements[] = {
      {&st_->insert,
       "INSERT INTO api_keys (id, name, keyHash, keyPrefix, tenantId, createdAt, expiresAt, lastUsedAt, revoked) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, 0)"},
      {&st_->touch, std::string("UPDATE api_keys SET lastUsedAt = ?1 "
                                "WHERE keyHash = ?2 AND revoked = 0 AND expiresAt >= ?1 RETURNING ") +
                        kColumns + ", keyHash"},
      {&st_->listAll, select + "ORDER BY createdAt DESC, id"},
      {&st_->listTenant, select + "WHERE tenantId = ?1 ORDER BY createdAt DESC, id"},
      {&st_->revoke, "UPDATE api_keys SET revoked = 1 WHERE id = ?1"},
      {&st_->cleanup, "DELETE FROM api_keys WHERE revoked <> 0 OR expiresAt < ?1"},
  };
  for (const auto& [statement, sql] : statements) {
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()) + 1, SQLITE_PREPARE_PERSISTENT,
                           &statement->handle, nullptr) != SQLITE_OK) {
      openFailed();
    }
  }
}

SqliteKeyStore::~SqliteKeyStore() { close(); }

void SqliteKeyStore::close() noexcept {
  st_.reset();  // statements are finalised before the connection closes
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void SqliteKeyStore::fail(const std::string& what) const {
  throw Error(errc::io_error, "auth database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

void SqliteKeyStore::insertKey(const StoredKey& key) {
  Use use(st_->insert);
  const KeyRecord& r = key.record;
  const std::string createdAt = isoTime(r.createdAt), expiresAt = isoTime(r.expiresAt);
  if (!use.bind(1, r.id) || !use.bind(2, r.name) || !use.bind(3, key.keyHash) || !use.bind(4, r.keyPrefix) ||
      !use.bind(5, r.tenantId) || !use.bind(6, createdAt) || !use.bind(7, expiresAt) || use.step() != SQLITE_DONE) {
    fail("cannot store the new key");
  }
}

std::optional<KeyStore::StoredKey> SqliteKeyStore::touchValidKey(const std::string& keyHash,
                                                                 const std::string& nowIso) {
  Use use(st_->touch);
  if (!use.bind(1, nowIso) || !use.bind(2, keyHash)) fail("cannot verify a key");
  std::optional<StoredKey> found;
  for (;;) {
    const int rc = use.step();
    if (rc == SQLITE_DONE) return found;
    if (rc != SQLITE_ROW) fail("cannot verify a key");
    found = StoredKey{use.record(), use.text(8)};
  }
}

std::vector<KeyRecord> SqliteKeyStore::selectKeys(const std::optional<std::string>& tenantId) {
  Use use(tenantId ? st_->listTenant : st_->listAll);
  if (tenantId && !use.bind(1, *tenantId)) fail("cannot list keys");
  std::vector<KeyRecord> keys;
  for (;;) {
    const int rc = use.step();
    if (rc == SQLITE_DONE) return keys;
    if (rc != SQLITE_ROW) fail("cannot list keys");
    keys.push_back(use.record());
  }
}

bool SqliteKeyStore::markRevoked(const std::string& id) {
  Use use(st_->revoke);
  if (!use.bind(1, id) || use.step() != SQLITE_DONE) fail("cannot revoke a key");
  return sqlite3_changes(db_) > 0;
}

int SqliteKeyStore::deleteRevokedAndExpired(const std::string& nowIso) {
  Use use(st_->cleanup);
  if (!use.bind(1, nowIso) || use.step() != SQLITE_DONE) fail("cannot delete expired and revoked keys");
  return sqlite3_changes(db_);
}

}  // namespace isol8::auth
