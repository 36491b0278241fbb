#include "server_fixture.hpp"

#include <catch2/catch.hpp>
#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "support.hpp"

extern char** environ;

namespace isol8::test {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Url {
  std::string host;
  std::string port;
  std::string target;
};

Url parseUrl(const std::string& url) {
  static const std::regex kUrl(R"(^(?:http|ws)://([^:/]+):(\d+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) throw std::invalid_argument("test URL must be http://host:port/...: " + url);
  return Url{m[1], m[2], m[3].matched ? std::string(m[3]) : "/"};
}

}  // namespace

ServerProcess::ServerProcess(ServerLaunch launch) : launch_(std::move(launch)) {
  std::string templ = (fs::temp_directory_path() / "isol8-server-test-XXXXXX").string();
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  const char* binary = std::getenv("ISOL8_TEST_SERVER_BINARY");
  std::vector<std::string> argv{binary && *binary ? binary : ISOL8_SERVER_PATH, "--port", std::to_string(freeLoopbackPort())};
  if (!launch_.masterKey.empty()) argv.insert(argv.end(), {"--key", launch_.masterKey});
  if (launch_.authDb) argv.insert(argv.end(), {"--auth-db", *launch_.authDb});
  if (!launch_.configJson.empty()) {
    std::ofstream(dir_ + "/config.json") << launch_.configJson;
    argv.insert(argv.end(), {"--config", dir_ + "/config.json"});
  }
  argv.insert(argv.end(), launch_.extraArgs.begin(), launch_.extraArgs.end());

  // The server's environment: ours, with HOME and the working directory in the temp dir so no
  // developer's ~/.isol8/config.json leaks in, plus the test's additions.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  env["HOME"] = dir_;
  for (const auto& [k, v] : launch_.env) env[k] = v;
  std::vector<std::string> envStrings;
  for (const auto& [k, v] : env) envStrings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  const std::string log = dir_ + "/output.log";
  const int logFd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    // The server dies with the test program, even when that crashes: no server (and none of
    // its containers) outlives a test run.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int devNull = open("/dev/null", O_RDONLY);
    dup2(devNull, 0);
    dup2(logFd, 1);
    dup2(logFd, 2);
    if (chdir(dir_.c_str()) != 0) _exit(127);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(logFd);
  if (pid < 0) throw std::runtime_error("cannot start " + std::string(ISOL8_SERVER_PATH));
  pid_ = pid;

  // Ready when the banner names the port it listens on (it may have fallen back to another).
  static const std::regex kBanner(R"(listening on http://[^:]+:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = readFile(log);
    if (std::regex_search(text, m, kBanner)) {
      port_ = std::stoi(m[1]);
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("isol8-server exited during startup:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling readiness
  }
  stop();
  throw std::runtime_error("isol8-server did not start listening within 30 s:\n" + readFile(log));
}

ServerProcess::~ServerProcess() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string ServerProcess::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::output() const { return readFile(dir_ + "/output.log"); }

int ServerProcess::stop() {
  if (pid_ <= 0) return exitStatus_;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the exit
  }
  pid_ = -1;
  exitStatus_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exitStatus_;
}

std::string HttpResponse::header(const std::string& lowerName) const {
  const auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

std::pair<std::string, std::string> bearer(const std::string& key) { return {"Authorization", "Bearer " + key}; }

HttpResponse httpRequest(const std::string& method, const std::string& url, const std::string& body,
                         const Headers& headers) {
  const Url u = parseUrl(url);
  asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  stream.connect(resolver.resolve(u.host, u.port));
  http::request<http::string_body> req{http::string_to_verb(method), u.target, 11};
  req.set(http::field::host, u.host + ":" + u.port);
  req.set(http::field::connection, "close");
  bool typed = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    if (beast::iequals(name, "content-type")) typed = true;
  }
  if (!body.empty() && !typed) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256ull << 20);
  parser.eager(true);
  http::read(stream, buffer, parser);
  const auto& res = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = res.body();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

WsResult wsExchange(const std::string& serverUrl, const Headers& headers, const std::vector<std::string>& send,
                    std::size_t maxMessages, std::chrono::milliseconds timeout) {
  const Url u = parseUrl(serverUrl);
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  tcp::resolver resolver(io);
  beast::get_lowest_layer(ws).connect(resolver.resolve(u.host, u.port));
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  WsResult result;
  websocket::response_type handshake;
  beast::error_code ec;
  ws.handshake(handshake, u.host + ":" + u.port, "/execute/ws", ec);
  if (ec) {
    result.handshakeStatus = static_cast<int>(handshake.result_int());
    return result;
  }
  result.upgraded = true;
  // The reads below block: a watchdog shuts the socket down when the server keeps it too long.
  const int fd = beast::get_lowest_layer(ws).socket().native_handle();
  std::mutex mutex;
  std::condition_variable finished;
  bool over = false;
  std::atomic<bool> cutOff = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (!finished.wait_for(lock, timeout, [&] { return over; })) {
      cutOff = true;
      ::shutdown(fd, SHUT_RDWR);
    }
  });
  struct Join {
    std::thread& thread;
    std::mutex& mutex;
    std::condition_variable& finished;
    bool& over;
    ~Join() {
      {
        std::lock_guard lock(mutex);
        over = true;
      }
      finished.notify_all();
      thread.join();
    }
  } join{watchdog, mutex, finished, over};
  for (const auto& message : send) {
    ws.text(true);
    ws.write(asio::buffer(message));
  }
  for (;;) {
    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec) {
      if (ec == websocket::error::closed) {
        result.closeCode = static_cast<int>(ws.reason().code);
        result.closeReason = std::string(ws.reason().reason.c_str());
      }
      break;
    }
    result.messages.push_back(beast::buffers_to_string(buffer.data()));
    if (result.messages.size() >= maxMessages) {
      ws.close(websocket::close_code::normal, ec);
      break;
    }
  }
  result.timedOut = cutOff;
  return result;
}

boost::json::object parseObject(const std::string& text) {
  INFO(text);
  auto value = boost::json::parse(text);
  REQUIRE(value.is_object());
  return value.as_object();
}

std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace isol8::test
