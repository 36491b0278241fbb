#include "postgres_fixture.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace isol8::test {
namespace {

constexpr const char* kDirPrefix = "isol8-pg-";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail(const std::string& text, std::size_t n = 2000) {
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

std::string randomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) throw std::runtime_error("getrandom");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string binDir() {
  if (const char* env = std::getenv("ISOL8_PG_BINDIR"); env && *env) return env;
  // Debian: /usr/lib/postgresql/<major>/bin; the newest major wins.
  std::optional<std::pair<int, std::string>> best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string version = entry.path().filename().string();
    const std::string bin = entry.path().string() + "/bin";
    if (!fs::exists(bin + "/initdb") || !fs::exists(bin + "/postgres")) continue;
    const int major = std::atoi(version.c_str());
    if (!best || major > best->first) best = std::make_pair(major, bin);
  }
  if (!best) {
    throw std::runtime_error(
        "PostgreSQL server binaries (initdb, postgres) not found under /usr/lib/postgresql/<version>/bin: install "
        "the postgresql package (scripts/ensure.sh does) or set ISOL8_PG_BINDIR");
  }
  return best->second;
}

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Who runs PostgreSQL: as root the `postgres` user, else the current user (no switch).
struct RunAs {
  bool switchUser = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs serverUser() {
  RunAs as;
  if (::geteuid() != 0) return as;
  const passwd* pw = ::getpwnam("postgres");
  if (!pw) throw std::runtime_error("running as root, but there is no `postgres` user to run PostgreSQL as");
  as.switchUser = true;
  as.uid = pw->pw_uid;
  as.gid = pw->pw_gid;
  return as;
}

// Starts argv as `as`, output appended to logPath. With parentDeath, the child gets SIGQUIT
// (PostgreSQL's immediate shutdown) if this test program dies first, so a crashed or killed
// test run leaves no server behind.
pid_t spawn(const std::vector<std::string>& argv, const RunAs& as, const std::string& logPath, bool parentDeath) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + logPath + ": " + std::strerror(errno));
  if (as.switchUser && ::fchown(log, as.uid, as.gid) != 0) {
    ::close(log);
    throw std::runtime_error("cannot chown " + logPath);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (as.switchUser && (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) _exit(126);
    // After the user switch: changing credentials clears the parent-death signal.
    if (parentDeath && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent)) _exit(125);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) _exit(124);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(log);
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  return pid;
}

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Directories of earlier runs whose test program died without cleaning up (killed by a
// timeout, say): the owner pid in the directory is gone. Their servers died with them.
void removeAbandonedDirectories() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    if (entry.path().filename().string().rfind(kDirPrefix, 0) != 0) continue;
    const std::string owner = readFile(entry.path().string() + "/owner");
    const int pid = std::atoi(owner.c_str());
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

std::string makeTempDir(const RunAs& as) {
  std::string pattern = std::string("/tmp/") + kDirPrefix + "XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  std::ofstream(pattern + "/owner") << ::getpid() << "\n";
  if (as.switchUser && ::chown(pattern.c_str(), as.uid, as.gid) != 0) {
    fs::remove_all(pattern);
    throw std::runtime_error("cannot hand " + pattern + " to the postgres user");
  }
  return pattern;
}

void copyTree(const std::string& from, const std::string& to, const std::string& logPath) {
  // cp -a keeps owners (the postgres user's, when run as root) and modes (data dir 0700).
  const int rc = waitFor(spawn({"/bin/cp", "-a", from, to}, RunAs{}, logPath, false));
  if (rc != 0) throw std::runtime_error("cp -a " + from + " " + to + " failed: " + tail(readFile(logPath)));
}

// A fresh cluster made by initdb (in /tmp, where the postgres user can write), kept for later
// test runs in ISOL8_PG_TEMPLATE_DIR (the build tree) under a name derived from the binaries'
// directory. Local (socket) connections are trusted; TCP ones need the password (kept in
// <template>/password), like a real server's. Assembled in a staging directory and renamed
// into place, so a template is complete or absent even when test programs race to make one.
std::string clusterTemplate(const std::string& bin, const RunAs& as) {
  std::string name = bin;
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string base = ISOL8_PG_TEMPLATE_DIR;
  const std::string final = base + "/" + name;
  if (fs::exists(final + "/data/PG_VERSION") && fs::exists(final + "/password")) return final;

  fs::create_directories(base);
  std::string pattern = base + "/staging-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  const std::string staging = pattern;
  std::string work;
  try {
    work = makeTempDir(as);
    const std::string password = randomHex(16);
    {
      std::ofstream pw(work + "/pwfile");
      pw << password << "\n";
    }
    ::chmod((work + "/pwfile").c_str(), 0600);
    if (as.switchUser && ::chown((work + "/pwfile").c_str(), as.uid, as.gid) != 0) {
      throw std::runtime_error("cannot hand the password file to the postgres user");
    }
    const std::string log = work + "/initdb.log";
    const int rc = waitFor(spawn({bin + "/initdb", "-D", work + "/data", "--username=postgres", "--auth-local=trust",
                                  "--auth-host=scram-sha-256", "--pwfile=" + work + "/pwfile", "--encoding=UTF8",
                                  "--locale=C", "--no-sync", "--no-instructions"},
                                 as, log, false));
    if (rc != 0) throw std::runtime_error("initdb failed (" + std::to_string(rc) + "): " + tail(readFile(log)));
    copyTree(work + "/data", staging + "/data", staging + "/copy.log");
    std::ofstream(staging + "/password") << password;
    if (::rename(staging.c_str(), final.c_str()) != 0) {
      // Another test program made one first: use that.
      if (errno != EEXIST && errno != ENOTEMPTY) {
        throw std::runtime_error("cannot move the PostgreSQL template into " + final + ": " + std::strerror(errno));
      }
      fs::remove_all(staging);
    }
    fs::remove_all(work);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    if (!work.empty()) fs::remove_all(work, ec);
    throw;
  }
  return final;
}

}  // namespace

PostgresServer& PostgresServer::shared() {
  static PostgresServer server;
  return server;
}

PostgresServer::PostgresServer() {
  const std::string bin = binDir();
  const RunAs as = serverUser();
  removeAbandonedDirectories();

  dir_ = makeTempDir(as);
  try {
    // A copy of a cluster initdb made once (initdb takes 1.5-3 s, a copy 0.1 s): under ctest
    // every test case is a test program of its own, with a server of its own.
    const std::string cluster = clusterTemplate(bin, as);
    password_ = readFile(cluster + "/password");
    copyTree(cluster + "/data", dir_ + "/data", dir_ + "/copy.log");

    // The port was free a moment ago; if another program took it meanwhile, try another.
    const std::string log = dir_ + "/server.log";
    for (int attempt = 1;; ++attempt) {
      port_ = freeLoopbackPort();
      pid_ = spawn({bin + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-p", std::to_string(port_), "-c",
                    "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                    "full_page_writes=off", "-c", "max_connections=30"},
                   as, log, true);
      const std::string ping = socketConnection("postgres") + " connect_timeout=2";
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      bool ready = false;
      bool exited = false;
      while (!ready && !exited && std::chrono::steady_clock::now() < deadline) {
        if (PQping(ping.c_str()) == PQPING_OK) {
          ready = true;
          break;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = true;
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
      }
      if (ready) break;
      const std::string output = readFile(log);
      if (exited && attempt < 3 && output.find("could not bind") != std::string::npos) continue;
      throw std::runtime_error(std::string("PostgreSQL did not ") + (exited ? "start" : "become ready in 30 s") +
                               ": " + tail(output));
    }
  } catch (...) {
    stop();
    throw;
  }
}

PostgresServer::~PostgresServer() { stop(); }

void PostgresServer::stop() noexcept {
  if (pid_ > 0) {
    // SIGQUIT: immediate shutdown, no checkpoint; the data is deleted next anyway.
    ::kill(pid_, SIGQUIT);
    waitFor(pid_);
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresServer::url(const std::string& db) const {
  return "postgresql://postgres:" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::socketConnection(const std::string& db) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

std::string PostgresServer::createDatabase() {
  const std::string name = "isol8_test_" + std::to_string(++databases_);
  query("postgres", "CREATE DATABASE " + name);
  return name;
}

std::vector<std::vector<std::string>> PostgresServer::query(const std::string& db, const std::string& sql) const {
  PGconn* conn = PQconnectdb(socketConnection(db).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to the test PostgreSQL: " + message);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const std::string message = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    throw std::runtime_error("query failed: " + sql + ": " + message);
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
    rows.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(conn);
  return rows;
}

}  // namespace isol8::test
