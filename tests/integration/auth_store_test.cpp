// The API-key stores against real databases: one list of behaviours run against SQLite (a
// file in a temp dir) and PostgreSQL (a throwaway server, postgres_fixture.hpp), then what is
// particular to each. Time is a fake clock handed to the store: expiry needs no sleeping.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>

#include "isol8/error.hpp"
#include "postgres_fixture.hpp"
#include "server/auth/key_store.hpp"
#include "server/auth/postgres_key_store.hpp"
#include "server/auth/sqlite_key_store.hpp"
#include "util/text.hpp"

using namespace isol8::auth;
using isol8::test::PostgresServer;
namespace fs = std::filesystem;

namespace {

// A clock the test moves by hand; the store reads it through the Clock it was given.
struct FakeClock {
  std::shared_ptr<std::int64_t> t = std::make_shared<std::int64_t>(1'780'000'000'000);  // 2026-05-28
  Clock clock() const {
    return [t = t] { return *t; };
  }
  std::int64_t now() const { return *t; }
  void advance(std::int64_t ms) { *t += ms; }
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "isol8-auth-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A SQLite database file in a fresh temp dir (in a directory the store has to create).
struct SqliteBackend {
  TempDir dir;
  std::string path = dir.path + "/state/auth.db";
  std::unique_ptr<KeyStore> open(const FakeClock& clock) const { return std::make_unique<SqliteKeyStore>(path, clock.clock()); }
  // Everything the database holds, as stored on disk: the file and its write-ahead log.
  std::string stored() const { return readFile(path) + readFile(path + "-wal"); }
};

// A fresh database on the test program's PostgreSQL server, reached over TCP with a password.
struct PostgresBackend {
  PostgresServer& server = PostgresServer::shared();
  std::string db = server.createDatabase();
  std::unique_ptr<KeyStore> open(const FakeClock& clock) const {
    return std::make_unique<PostgresKeyStore>(server.url(db), clock.clock());
  }
  // Every column of every row, as text.
  std::string stored() const {
    std::string all;
    for (const auto& row : server.query(db, "SELECT * FROM api_keys")) {
      for (const auto& column : row) all += column + "\n";
    }
    return all;
  }
};

const std::regex kKeyForm("^isol8_[0-9a-f]{64}$");
const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

std::optional<KeyRecord> findKey(KeyStore& store, const std::string& id) {
  for (KeyRecord& r : store.listKeys()) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

std::vector<std::string> ids(const std::vector<KeyRecord>& records) {
  std::vector<std::string> out;
  for (const KeyRecord& r : records) out.push_back(r.id);
  return out;
}

#define REQUIRE_ERROR(expr, errcode, fragment)                                        \
  do {                                                                                \
    bool thrown = false;                                                              \
    try {                                                                             \
      static_cast<void>(expr);                                                        \
    } catch (const isol8::Error& e) {                                                 \
      thrown = true;                                                                  \
      INFO(e.message());                                                              \
      CHECK(e.code() == isol8::make_error_code(errcode));                             \
      CHECK_THAT(e.message(), Catch::Contains(fragment));                             \
    }                                                                                 \
    if (!thrown) FAIL_CHECK("expected isol8::Error from: " #expr);                    \
  } while (false)

}  // namespace

// ---------------------------------------------------------------------------------------------
// The shared behaviours.

TEMPLATE_TEST_CASE("key store: createKey returns the plain key once, in the documented form", "[auth]",
                   SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);

  const CreatedKey k = store->createKey("ci", "org-1", 60'000);
  CHECK(std::regex_match(k.key, kKeyForm));
  CHECK(k.key.size() == 70);
  CHECK(std::regex_match(k.id, kUuidV4));
  CHECK(k.keyPrefix == k.key.substr(0, 10) + "...");
  CHECK(k.name == "ci");
  CHECK(k.tenantId == "org-1");
  CHECK(k.expiresAt == clock.now() + 60'000);
  CHECK(isoTime(k.expiresAt) == "2026-05-28T20:27:40.000Z");

  const CreatedKey other = store->createKey("ci", "org-1", 60'000);
  CHECK(other.id != k.id);
  CHECK(other.key != k.key);

  const auto listed = findKey(*store, k.id);
  REQUIRE(listed);
  CHECK(listed->name == "ci");
  CHECK(listed->keyPrefix == k.keyPrefix);
  CHECK(listed->tenantId == "org-1");
  CHECK(listed->createdAt == clock.now());
  CHECK(listed->expiresAt == k.expiresAt);
  CHECK_FALSE(listed->lastUsedAt);
  CHECK_FALSE(listed->revoked);

  SECTION("defaults: tenant \"default\", 24 hours") {
    const CreatedKey d = store->createKey("login");
    CHECK(d.tenantId == "default");
    CHECK(d.expiresAt == clock.now() + 86'400'000);
    CHECK(store->createKey("x", "").tenantId == "default");
  }
  SECTION("bad arguments") {
    REQUIRE_ERROR(store->createKey(""), isol8::errc::invalid_request, "name is required");
    REQUIRE_ERROR(store->createKey("x", "t", 0), isol8::errc::invalid_request, "ttlMs");
    REQUIRE_ERROR(store->createKey("x", "t", -5), isol8::errc::invalid_request, "ttlMs");
    REQUIRE_ERROR(store->createKey("x", "t", INT64_MAX), isol8::errc::invalid_request, "too large");
    CHECK(store->listKeys().size() == 2);
  }
}

TEMPLATE_TEST_CASE("key store: verify accepts a valid key and records when it was used", "[auth]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey k = store->createKey("worker", "org-1", 3'600'000);
  const std::int64_t created = clock.now();

  clock.advance(1'000);
  const auto record = store->verify(k.key);
  REQUIRE(record);
  CHECK(record->id == k.id);
  CHECK(record->name == "worker");
  CHECK(record->keyPrefix == k.keyPrefix);
  CHECK(record->tenantId == "org-1");
  CHECK(record->createdAt == created);
  CHECK(record->expiresAt == k.expiresAt);
  CHECK_FALSE(record->revoked);
  REQUIRE(record->lastUsedAt);
  CHECK(*record->lastUsedAt == clock.now());
  CHECK(findKey(*store, k.id)->lastUsedAt == clock.now());

  clock.advance(5'000);
  REQUIRE(store->verify(k.key));
  CHECK(findKey(*store, k.id)->lastUsedAt == clock.now());
}

TEMPLATE_TEST_CASE("key store: verify refuses anything but a valid key", "[auth]", SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey k = store->createKey("k");

  std::string lastCharChanged = k.key;
  lastCharChanged.back() = lastCharChanged.back() == '0' ? '1' : '0';
  std::string upper = k.key;
  std::transform(upper.begin() + 6, upper.end(), upper.begin() + 6, ::toupper);
  const std::string candidates[] = {
      "",
      "isol8_",
      k.keyPrefix,
      k.key.substr(0, 69),
      k.key + "0",
      " " + k.key,
      "Bearer " + k.key,
      lastCharChanged,
      upper,
      "isol8_" + isol8::detail::randomHex(32),   // well-formed, never issued
      isol8::detail::sha256Hex(k.key),           // what the database holds
      "isol8_" + isol8::detail::sha256Hex(k.key).substr(0, 64),
      k.id,
  };
  for (const std::string& candidate : candidates) {
    INFO(candidate);
    CHECK_FALSE(store->verify(candidate));
  }
  CHECK_FALSE(findKey(*store, k.id)->lastUsedAt);  // none of those touched the key
  CHECK(store->verify(k.key));
}

TEMPLATE_TEST_CASE("key store: only the SHA-256 of a key is stored, never the key", "[auth]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey a = store->createKey("a", "org-1");
  const CreatedKey b = store->createKey("b", "org-2");
  REQUIRE(store->verify(a.key));

  const std::string stored = backend.stored();
  for (const CreatedKey* k : {&a, &b}) {
    INFO(k->name);
    CHECK(stored.find(k->key) == std::string::npos);
    CHECK(stored.find(k->key.substr(6)) == std::string::npos);  // the secret part alone
    CHECK(stored.find(k->key.substr(10, 32)) == std::string::npos);
    CHECK(stored.find(isol8::detail::sha256Hex(k->key)) != std::string::npos);  // so the search can see
  }
}

TEMPLATE_TEST_CASE("key store: a key is valid through its expiresAt millisecond, not after", "[auth]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey k = store->createKey("short", "default", 5);

  clock.advance(5);
  CHECK(store->verify(k.key));
  clock.advance(1);
  CHECK_FALSE(store->verify(k.key));
  const auto listed = findKey(*store, k.id);
  REQUIRE(listed);  // expired keys stay listed until cleanup
  CHECK_FALSE(listed->revoked);
  CHECK(listed->lastUsedAt == clock.now() - 1);  // the refused attempt did not touch it
}

TEMPLATE_TEST_CASE("key store: a revoked key no longer verifies and is listed as revoked", "[auth]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey k = store->createKey("doomed");
  const CreatedKey other = store->createKey("kept");
  REQUIRE(store->verify(k.key));

  CHECK(store->revokeKey(k.id));
  CHECK_FALSE(store->verify(k.key));
  CHECK(findKey(*store, k.id)->revoked);
  CHECK(store->revokeKey(k.id));  // again: the key is still there, so still "found"
  CHECK_FALSE(store->revokeKey("00000000-0000-4000-8000-000000000000"));
  CHECK_FALSE(store->revokeKey(""));

  CHECK(store->verify(other.key));
  CHECK_FALSE(findKey(*store, other.id)->revoked);
}

TEMPLATE_TEST_CASE("key store: listKeys, all or by tenant, newest first", "[auth]", SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  CHECK(store->listKeys().empty());
  const CreatedKey a1 = store->createKey("a1", "alpha");
  clock.advance(1);
  const CreatedKey b1 = store->createKey("b1", "beta");
  clock.advance(1);
  const CreatedKey a2 = store->createKey("a2", "alpha");

  CHECK(ids(store->listKeys()) == std::vector<std::string>{a2.id, b1.id, a1.id});
  CHECK(ids(store->listKeys("alpha")) == std::vector<std::string>{a2.id, a1.id});
  CHECK(ids(store->listKeys("beta")) == std::vector<std::string>{b1.id});
  CHECK(store->listKeys("gamma").empty());
  CHECK(store->listKeys("ALPHA").empty());  // tenant ids are exact
}

TEMPLATE_TEST_CASE("key store: cleanup deletes exactly the revoked and the expired keys", "[auth]", SqliteBackend,
                   PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey live = store->createKey("live", "t", 3'600'000);
  const CreatedKey expiresNow = store->createKey("expires-now", "t", 11);
  const CreatedKey expired = store->createKey("expired", "t", 10);
  const CreatedKey revoked = store->createKey("revoked", "t", 3'600'000);
  const CreatedKey both = store->createKey("both", "t", 10);
  REQUIRE(store->revokeKey(revoked.id));
  REQUIRE(store->revokeKey(both.id));
  CHECK(store->cleanup() == 2);  // nothing has expired yet: the two revoked keys
  clock.advance(11);

  CHECK(store->cleanup() == 1);  // "expired"; "expires-now" is still valid this millisecond
  const auto left = ids(store->listKeys());
  CHECK(std::set<std::string>(left.begin(), left.end()) == std::set<std::string>{live.id, expiresNow.id});
  CHECK(store->cleanup() == 0);
  clock.advance(1);
  CHECK(store->cleanup() == 1);
  CHECK(ids(store->listKeys()) == std::vector<std::string>{live.id});
  CHECK(store->verify(live.key));
  CHECK_FALSE(store->revokeKey(expired.id));  // gone, so "not found"
  CHECK_FALSE(store->verify(expired.key));
}

TEMPLATE_TEST_CASE("key store: keys persist, and a second store on the same database sees them", "[auth]",
                   SqliteBackend, PostgresBackend) {
  TestType backend;
  FakeClock clock;
  auto first = backend.open(clock);
  auto second = backend.open(clock);
  const CreatedKey a = first->createKey("from-first", "org-1");
  const CreatedKey b = second->createKey("from-second", "org-2");

  REQUIRE(second->verify(a.key));
  REQUIRE(first->verify(b.key));
  CHECK(second->listKeys().size() == 2);
  CHECK(second->revokeKey(a.id));
  CHECK_FALSE(first->verify(a.key));  // a revocation elsewhere takes effect at once

  first.reset();
  second.reset();
  auto reopened = backend.open(clock);
  const auto listed = reopened->listKeys();
  REQUIRE(listed.size() == 2);
  CHECK(findKey(*reopened, a.id)->revoked);
  CHECK(findKey(*reopened, b.id)->lastUsedAt == clock.now());
  CHECK(reopened->verify(b.key));
  CHECK_FALSE(reopened->verify(a.key));
}

// ---------------------------------------------------------------------------------------------
// SQLite only.

TEST_CASE("SQLite store: the file is private (0600), in WAL mode, and its directory is created", "[auth][sqlite]") {
  SqliteBackend backend;
  FakeClock clock;
  auto store = backend.open(clock);
  store->createKey("k");
  for (const std::string& file : {backend.path, backend.path + "-wal", backend.path + "-shm"}) {
    INFO(file);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  const std::string header = readFile(backend.path).substr(0, 20);
  CHECK(header.substr(0, 16) == std::string("SQLite format 3\0", 16));
  CHECK(header[18] == 2);  // write version 2: WAL
  CHECK(header[19] == 2);
  CHECK(store->describe() == "sqlite:" + backend.path);
}

TEST_CASE("SQLite store: the table has the original isol8's schema", "[auth][sqlite]") {
  SqliteBackend backend;
  FakeClock clock;
  backend.open(clock).reset();
  // sqlite_master keeps the CREATE statements as text in the file.
  const std::string file = readFile(backend.path);
  CHECK_THAT(file, Catch::Contains("CREATE TABLE api_keys"));
  for (const char* column : {"id TEXT PRIMARY KEY", "keyHash TEXT NOT NULL UNIQUE", "keyPrefix TEXT NOT NULL",
                             "tenantId TEXT NOT NULL", "createdAt TEXT NOT NULL", "expiresAt TEXT NOT NULL",
                             "lastUsedAt TEXT", "revoked INTEGER NOT NULL DEFAULT 0"}) {
    CHECK_THAT(file, Catch::Contains(column));
  }
  CHECK_THAT(file, Catch::Contains("idx_api_keys_keyHash"));
}

TEST_CASE("SQLite store: files that cannot be a key database are refused clearly", "[auth][sqlite]") {
  TempDir dir;
  FakeClock clock;
  SECTION("not a database") {
    const std::string path = dir.path + "/notes.txt";
    std::ofstream(path) << "these are not the keys you are looking for, but they are long enough to be a header\n";
    REQUIRE_ERROR(SqliteKeyStore(path, clock.clock()), isol8::errc::io_error,
                  "cannot open the auth database " + path + ": file is not a database");
  }
  SECTION("a parent that is a file") {
    std::ofstream(dir.path + "/file") << "x";
    REQUIRE_ERROR(SqliteKeyStore(dir.path + "/file/auth.db", clock.clock()), isol8::errc::io_error,
                  "cannot open the auth database " + dir.path + "/file/auth.db: Not a directory");
  }
  SECTION("a directory") {
    REQUIRE_ERROR(SqliteKeyStore(dir.path, clock.clock()), isol8::errc::io_error,
                  "cannot open the auth database " + dir.path + ": Is a directory");
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only.

TEST_CASE("PostgreSQL store: the table has the original isol8's schema", "[auth][postgres]") {
  PostgresBackend backend;
  FakeClock clock;
  backend.open(clock).reset();
  const auto columns = backend.server.query(
      backend.db,
      "SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns "
      "WHERE table_name = 'api_keys' ORDER BY ordinal_position");
  std::vector<std::string> got;
  for (const auto& row : columns) got.push_back(row[0]);
  CHECK(got == std::vector<std::string>{"id text NO", "name text NO", "key_hash text NO", "key_prefix text NO",
                                        "tenant_id text NO", "created_at text NO", "expires_at text NO",
                                        "last_used_at text YES", "revoked boolean NO"});
  CHECK(backend.server.query(backend.db, "SELECT indexname FROM pg_indexes WHERE indexname = 'idx_api_keys_key_hash'")
            .size() == 1);
}

TEST_CASE("PostgreSQL store: connection errors name the host, never the password", "[auth][postgres]") {
  FakeClock clock;
  SECTION("nothing listening") {
    // Port 1 (tcpmux) is privileged and unused: the connection is refused at once.
    const std::string url = "postgresql://isol8:Sup3r%21Secret-pw@127.0.0.1:1/keys";
    try {
      PostgresKeyStore store(url, clock.clock());
      FAIL("connected to port 1");
    } catch (const isol8::Error& e) {
      INFO(e.message());
      CHECK(e.code() == isol8::make_error_code(isol8::errc::io_error));
      CHECK_THAT(e.message(), Catch::StartsWith("cannot connect to the PostgreSQL auth database "
                                                "postgresql://isol8@127.0.0.1:1/keys: "));
      CHECK_THAT(e.message(), Catch::Contains("Connection refused"));
      CHECK_THAT(e.message(), !Catch::Contains("Sup3r") && !Catch::Contains("Secret-pw"));
    }
  }
  SECTION("wrong password") {
    PostgresServer& server = PostgresServer::shared();
    const std::string url =
        "postgresql://postgres:Wr0ngPassw0rd@127.0.0.1:" + std::to_string(server.port()) + "/postgres";
    try {
      PostgresKeyStore store(url, clock.clock());
      FAIL("connected with a wrong password");
    } catch (const isol8::Error& e) {
      INFO(e.message());
      CHECK(e.code() == isol8::make_error_code(isol8::errc::io_error));
      CHECK_THAT(e.message(), Catch::Contains("password authentication failed for user \"postgres\""));
      CHECK_THAT(e.message(), Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
      CHECK_THAT(e.message(), !Catch::Contains("Wr0ngPassw0rd"));
    }
  }
  SECTION("no such database") {
    PostgresServer& server = PostgresServer::shared();
    REQUIRE_ERROR(PostgresKeyStore(server.url("no_such_db"), clock.clock()), isol8::errc::io_error,
                  "database \"no_such_db\" does not exist");
  }
}

TEST_CASE("PostgreSQL store: openKeyStore picks it for postgres:// and postgresql:// URLs", "[auth][postgres]") {
  PostgresBackend backend;
  FakeClock clock;
  const std::string url = backend.server.url(backend.db);
  const std::string shortScheme = "postgres://" + url.substr(std::string("postgresql://").size());
  for (const std::string& connection : {url, shortScheme}) {
    auto store = openKeyStore(connection, clock.clock());
    REQUIRE(dynamic_cast<PostgresKeyStore*>(store.get()));
    CHECK(store->describe() == "postgresql://postgres@127.0.0.1:" + std::to_string(backend.server.port()) + "/" +
                                   backend.db);
    CHECK_THAT(store->describe(), !Catch::Contains(backend.server.password()));
    store->createKey("k");
  }
  // A libpq key=value string over the unix socket works too (not through openKeyStore).
  PostgresKeyStore overSocket(backend.server.socketConnection(backend.db), clock.clock());
  CHECK(overSocket.listKeys().size() == 2);
}

TEST_CASE("PostgreSQL store: reconnects when the server drops its connection", "[auth][postgres]") {
  PostgresBackend backend;
  FakeClock clock;
  auto store = backend.open(clock);
  const CreatedKey k = store->createKey("survivor");
  const auto killed = backend.server.query(
      "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'isol8-server' "
                  "AND datname = '" + backend.db + "'");
  REQUIRE(killed.size() == 1);
  CHECK(store->verify(k.key));  // the statements are prepared again on the new connection
  CHECK(store->listKeys().size() == 1);
}

TEST_CASE("PostgreSQL store: servers starting together on an empty database all create the schema",
          "[auth][postgres]") {
  PostgresBackend backend;
  FakeClock clock;
  std::vector<std::future<std::string>> opening;
  for (int i = 0; i < 4; ++i) {
    opening.push_back(std::async(std::launch::async, [&] { return backend.open(clock)->createKey("k").id; }));
  }
  std::set<std::string> created;
  for (auto& f : opening) created.insert(f.get());
  CHECK(created.size() == 4);
  CHECK(backend.open(clock)->listKeys().size() == 4);
}

TEST_CASE("SQLite store: openKeyStore picks it for a file path", "[auth][sqlite]") {
  SqliteBackend backend;
  FakeClock clock;
  auto store = openKeyStore(backend.path, clock.clock());
  REQUIRE(dynamic_cast<SqliteKeyStore*>(store.get()));
  CHECK(fs::exists(backend.path));
}
