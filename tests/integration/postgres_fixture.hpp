// A throwaway PostgreSQL server for tests: a fresh cluster (a copy of one initdb made once and
// kept in the build tree) in a new directory under /tmp, the server on a free 127.0.0.1 port (password auth) and a unix socket in that directory (trust),
// readiness polled with libpq's PQping, stopped and deleted when the test program exits.
// As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
// The binaries come from $ISOL8_PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin
// (Debian's postgresql package, which scripts/ensure.sh installs).
#pragma once

#include <string>
#include <vector>

namespace isol8::test {

class PostgresServer {
 public:
  // The server of this test program, started on first use (0.2 s; the first run of the build
  // tree adds initdb's 1.5 s).
  static PostgresServer& shared();

  // A new, empty database; returns its name.
  std::string createDatabase();
  // postgresql://postgres:<password>@127.0.0.1:<port>/<db>: over TCP, with the password.
  std::string url(const std::string& db) const;
  // host=<socket dir> port=<port> user=postgres dbname=<db>: the unix socket, no password.
  std::string socketConnection(const std::string& db) const;
  int port() const { return port_; }
  const std::string& password() const { return password_; }
  // Runs SQL over the socket; rows of text columns (NULL as "").
  std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) const;

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

 private:
  PostgresServer();
  void stop() noexcept;

  std::string dir_;
  std::string password_;
  int port_ = 0;
  int pid_ = -1;
  int databases_ = 0;
};

}  // namespace isol8::test
