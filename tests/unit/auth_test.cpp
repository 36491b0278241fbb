// The API-key store's pure parts: key form, prefixes, comparison, and how openKeyStore reads
// a connection string before touching any database.
#include <catch2/catch.hpp>

#include "server/auth/key_store.hpp"
#include "server/auth/postgres_key_store.hpp"
#include "test_support.hpp"
#include "util/text.hpp"

using namespace isol8::auth;

TEST_CASE("auth: key form and prefix", "[auth]") {
  const std::string key = "isol8_" + isol8::detail::randomHex(32);
  CHECK(hasKeyForm(key));
  CHECK(keyPrefixOf(key) == key.substr(0, 10) + "...");
  CHECK(keyPrefixOf("isol8_4f3c0011") == "isol8_4f3c...");
  CHECK_FALSE(hasKeyForm(""));
  CHECK_FALSE(hasKeyForm(key.substr(0, 69)));
  CHECK_FALSE(hasKeyForm(key + "a"));
  CHECK_FALSE(hasKeyForm("isol9_" + key.substr(6)));
  CHECK_FALSE(hasKeyForm("isol8_" + std::string(63, 'a') + "A"));
  CHECK_FALSE(hasKeyForm("isol8_" + std::string(63, 'a') + "g"));
}

TEST_CASE("auth: constantTimeEquals compares whole secrets of any length", "[auth]") {
  CHECK(constantTimeEquals("", ""));
  CHECK(constantTimeEquals("master-key", "master-key"));
  CHECK_FALSE(constantTimeEquals("master-key", "master-kez"));
  CHECK_FALSE(constantTimeEquals("master-key", "master-key "));
  CHECK_FALSE(constantTimeEquals("master-key", "master"));
  CHECK_FALSE(constantTimeEquals("", "x"));
  CHECK_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_CASE("auth: isoTime is the wire form", "[auth]") {
  CHECK(isoTime(1'772'366'400'000) == "2026-03-01T12:00:00.000Z");
  CHECK(isoTime(1'772'366'400'123) == "2026-03-01T12:00:00.123Z");
}

TEST_CASE("auth: openKeyStore refuses what it cannot open, before touching anything", "[auth]") {
  REQUIRE_ISOL8_ERROR(openKeyStore(""), isol8::errc::invalid_request, "the auth database connection string is empty");
  REQUIRE_ISOL8_ERROR(openKeyStore("mysql://isol8:hunter2@db/keys"), isol8::errc::not_supported,
                      "MySQL auth databases are not supported; use a SQLite file path or a postgres:// URL");
  REQUIRE_ISOL8_ERROR(openKeyStore("sqlite:///var/lib/auth.db"), isol8::errc::invalid_request,
                      "unsupported auth database URL scheme \"sqlite://\"; use a SQLite file path or a postgres:// URL");
  REQUIRE_ISOL8_ERROR(openKeyStore("postgress://u@h/db"), isol8::errc::invalid_request,
                      "unsupported auth database URL scheme \"postgress://\"; use a SQLite file path or a "
                      "postgres:// URL");
  CHECK(isPostgresUrl("postgres://h/db"));
  CHECK(isPostgresUrl("postgresql://h/db"));
  CHECK_FALSE(isPostgresUrl("./postgres://"));
  CHECK_FALSE(isPostgresUrl("POSTGRES://h/db"));  // as the original: prefixes are case-sensitive
}

TEST_CASE("auth: a malformed PostgreSQL URL is refused without echoing its password", "[auth]") {
  try {
    PostgresKeyStore store("postgresql://isol8:s3cr%ZZet@db.internal/keys");
    FAIL("accepted a malformed URL");
  } catch (const isol8::Error& e) {
    INFO(e.message());
    CHECK(e.code() == isol8::make_error_code(isol8::errc::invalid_request));
    CHECK_THAT(e.message(), Catch::StartsWith("invalid PostgreSQL connection string: "));
    CHECK_THAT(e.message(), !Catch::Contains("s3cr") && !Catch::Contains("ZZet"));
  }
}
