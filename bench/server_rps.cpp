// Requests per second and latency of python `print('hello')` through isol8-server, or through
// an in-process DockerIsol8 (the baseline: what the server adds on top of the library).
//
//   server mode: C keep-alive HTTP/1.1 connections (one coroutine each, one io_context, one
//                thread), each sending POST /execute {"request":{"runtime":"python",
//                "code":"print('hello')"}} with a bearer key, the next request as soon as the
//                answer is in. A request is timed from just before it is written until its
//                response has been read (connecting included for a connection's first one).
//   local mode:  C coroutines awaiting DockerIsol8::asyncExecute of the same request on one
//                engine built from the same config file (what the server's config gives its
//                engine), started with a prewarmed python pool.
//
// Each concurrency level runs for D seconds: no request starts after D, the ones in flight
// finish, and requests/s = successful requests / (time until the last one finished). An error
// is a transport failure, a status other than 200, or a result whose exitCode is not 0 or whose
// stdout is not "hello\n". Latencies (p50, p90, p99, max) are of the successful requests.
//
// usage: isol8_bench_server_rps --url http://127.0.0.1:PORT --key KEY [options]
//        isol8_bench_server_rps --local [--config FILE] [options]
// options: -c LIST (concurrency levels; default 1,8,64)  -d SECONDS (5)
//          --warmup SECONDS (3; at the highest level, not reported)  --no-header
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <isol8/config.hpp>
#include <isol8/isol8.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kCode = "print('hello')";
constexpr const char* kExpectedStdout = "hello\n";

// "" when the run printed hello and exited 0, else what was wrong.
std::string checkRun(std::int64_t exitCode, const std::string& stdoutText) {
  if (exitCode == 0 && stdoutText == kExpectedStdout) return {};
  return fmt::format("exit code {}, stdout {}", exitCode, json::serialize(json::value(stdoutText)));
}

// One run: "" on success, else what went wrong.
using RunOnce = std::function<asio::awaitable<std::string>()>;

struct Target {
  tcp::endpoint endpoint;
  std::string host;  // Host header
  std::string key;
};

// One keep-alive connection that sends one POST /execute at a time; reconnects after a
// transport error or a `Connection: close`.
class HttpClient {
 public:
  HttpClient(asio::any_io_executor executor, const Target& target) : stream_(std::move(executor)), target_(target) {
    request_.method(http::verb::post);
    request_.target("/execute");
    request_.version(11);
    request_.set(http::field::host, target.host);
    request_.set(http::field::authorization, "Bearer " + target.key);
    request_.set(http::field::content_type, "application/json");
    request_.keep_alive(true);
    request_.body() = json::serialize(json::object{{"request", json::object{{"runtime", "python"}, {"code", kCode}}}});
    request_.prepare_payload();
  }

  asio::awaitable<std::string> post() {
    std::string failure;
    try {
      if (!connected_) {
        co_await stream_.async_connect(target_.endpoint, asio::use_awaitable);
        connected_ = true;
      }
      co_await http::async_write(stream_, request_, asio::use_awaitable);
      http::response<http::string_body> response;
      co_await http::async_read(stream_, buffer_, response, asio::use_awaitable);
      if (!response.keep_alive()) close();
      co_return check(response);
    } catch (const boost::system::system_error& e) {
      failure = std::string("transport: ") + e.what();
    }
    close();
    co_return failure;
  }

 private:
  static std::string check(const http::response<http::string_body>& response) {
    if (response.result_int() != 200)
      return fmt::format("HTTP {}: {}", response.result_int(), response.body().substr(0, 300));
    boost::system::error_code ec;
    const json::value body = json::parse(response.body(), ec);
    const auto* result = ec ? nullptr : body.if_object();
    const auto* exitCode = result ? result->if_contains("exitCode") : nullptr;
    const auto* out = result ? result->if_contains("stdout") : nullptr;
    if (!exitCode || !exitCode->is_int64() || !out || !out->is_string())
      return "HTTP 200 without a result: " + response.body().substr(0, 300);
    return checkRun(exitCode->as_int64(), std::string(out->as_string()));
  }

  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  beast::tcp_stream stream_;
  const Target& target_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

asio::awaitable<std::string> runLocal(isol8::Engine& engine) {
  isol8::ExecutionRequest request;
  request.runtime = "python";
  request.code = kCode;
  std::string failure;
  try {
    const auto result = co_await engine.asyncExecute(std::move(request));
    co_return checkRun(result.exitCode, result.stdoutText);
  } catch (const std::exception& e) {
    failure = std::string("engine: ") + e.what();
  }
  co_return failure;
}

struct Sample {
  std::vector<double> okMs;
  int errors = 0;
  std::string firstError;
};

asio::awaitable<void> worker(RunOnce run, Clock::time_point deadline, Sample& sample) {
  while (Clock::now() < deadline) {
    const auto start = Clock::now();
    const std::string error = co_await run();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (error.empty()) {
      sample.okMs.push_back(ms);
    } else {
      ++sample.errors;
      if (sample.firstError.empty()) sample.firstError = error;
    }
  }
}

struct Row {
  int concurrency;
  double seconds;
  Sample sample;
};

// `makeRun(i)` gives worker i its way to run one request (its own connection in server mode).
Row measure(asio::io_context& io, int concurrency, double seconds, const std::function<RunOnce(int)>& makeRun) {
  Sample sample;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(makeRun(i), deadline, sample), asio::detached);
  io.restart();
  io.run();
  return {concurrency, std::chrono::duration<double>(Clock::now() - start).count(), std::move(sample)};
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// Markdown table rows; scripts/bench-server.sh reads the columns back (split on '|').
void printHeader() {
  fmt::print("| path | concurrency | seconds | completed | failures | runs/s | p50 ms | p90 ms | p99 ms | max ms |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

void printRow(const std::string& mode, Row row) {
  auto& ms = row.sample.okMs;
  std::sort(ms.begin(), ms.end());
  const auto completed = static_cast<int>(ms.size()) + row.sample.errors;
  fmt::print("| {} | {} | {:.1f} | {} | {} | {:.2f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} |\n", mode, row.concurrency,
             row.seconds, completed, row.sample.errors, static_cast<double>(ms.size()) / row.seconds,
             percentile(ms, 0.50), percentile(ms, 0.90), percentile(ms, 0.99), ms.empty() ? NAN : ms.back());
  std::fflush(stdout);
  if (!row.sample.firstError.empty())
    fmt::print(stderr, "[{} c={}] {} failure(s), first: {}\n", mode, row.concurrency, row.sample.errors,
               row.sample.firstError);
}

struct Args {
  std::optional<std::string> url, key, config;
  bool local = false;
  bool header = true;
  std::vector<int> levels{1, 8, 64};
  double seconds = 5;
  double warmup = 3;
};

std::vector<int> parseLevels(const std::string& list) {
  std::vector<int> levels;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const int c = std::stoi(item);
    if (c < 1) throw std::invalid_argument("concurrency must be >= 1");
    levels.push_back(c);
  }
  if (levels.empty()) throw std::invalid_argument("-c needs at least one level");
  return levels;
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--url") a.url = value();
    else if (arg == "--key") a.key = value();
    else if (arg == "--config") a.config = value();
    else if (arg == "--local") a.local = true;
    else if (arg == "--no-header") a.header = false;
    else if (arg == "-c") a.levels = parseLevels(value());
    else if (arg == "-d") a.seconds = std::stod(value());
    else if (arg == "--warmup") a.warmup = std::stod(value());
    else throw std::invalid_argument("unknown argument " + arg);
  }
  if (!a.local && (!a.url || !a.key)) throw std::invalid_argument("--url and --key are needed (or --local)");
  return a;
}

Target resolveTarget(asio::io_context& io, const std::string& url, const std::string& key) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) throw std::invalid_argument("the URL must start with http://");
  const std::string hostPort = url.substr(prefix.size(), url.find('/', prefix.size()) - prefix.size());
  const auto colon = hostPort.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("the URL needs a port");
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(hostPort.substr(0, colon), hostPort.substr(colon + 1));
  return {results.begin()->endpoint(), hostPort, key};
}

isol8::EngineOptions localOptions(const std::optional<std::string>& configPath) {
  if (!configPath) return {};
  std::ifstream in(*configPath, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + *configPath);
  std::stringstream text;
  text << in.rdbuf();
  return isol8::engineOptionsFrom(isol8::parseConfig(text.str(), *configPath));
}

void run(const Args& a) {
  asio::io_context io;
  std::function<RunOnce(int)> makeRun;
  std::vector<std::unique_ptr<HttpClient>> clients;  // server mode: one per worker of a level
  std::unique_ptr<isol8::DockerIsol8> engine;         // local mode
  std::optional<Target> target;
  if (a.local) {
    engine = std::make_unique<isol8::DockerIsol8>(localOptions(a.config));
    engine->start({.prewarm = true, .runtimes = {"python"}});
    makeRun = [&](int) -> RunOnce { return [&] { return runLocal(*engine); }; };
  } else {
    target = resolveTarget(io, *a.url, *a.key);
    makeRun = [&](int) -> RunOnce {
      clients.push_back(std::make_unique<HttpClient>(io.get_executor(), *target));
      return [client = clients.back().get()] { return client->post(); };
    };
  }
  const std::string mode = a.local ? "library" : "server";
  if (a.warmup > 0) {
    const Row w = measure(io, *std::max_element(a.levels.begin(), a.levels.end()), a.warmup, makeRun);
    if (w.sample.okMs.empty()) {
      printRow(mode + "-wu", w);
      throw std::runtime_error("the warm-up had no successful request");
    }
  }
  if (a.header) printHeader();
  for (const int level : a.levels) {
    clients.clear();  // fresh connections per level: idle keep-alive ones may have been closed
    printRow(mode, measure(io, level, a.seconds, makeRun));
  }
  if (engine) engine->stop();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parseArgs(argc, argv));
  } catch (const std::exception& e) {
    fmt::print(stderr, "isol8_bench_server_rps: {}\n", e.what());
    return 1;
  }
  return 0;
}
