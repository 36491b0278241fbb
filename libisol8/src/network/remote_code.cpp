#include "network/remote_code.hpp"

#include "network/asio_address.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "isol8/error.hpp"
#include "isol8/version.hpp"
#include "network/address_policy.hpp"
#include "network/remote_code_rules.hpp"
#include "network/tls_client.hpp"
#include "network/url.hpp"
#include "util/log.hpp"

namespace isol8::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMaxRedirects = 5;

bool isRedirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// One hop's outcome: the code, or where the server redirects to.
struct HopResult {
  std::optional<std::string> location;
  std::string body;
};

class Fetcher {
 public:
  Fetcher(asio::any_io_executor executor, const RemoteCodePolicy& policy, bool allowInsecure, Logger log)
      : executor_(std::move(executor)),
        policy_(policy),
        allowInsecure_(allowInsecure),
        log_(std::move(log)),
        deadline_(Clock::now() + std::chrono::milliseconds(policy.fetchTimeoutMs)) {}

  // Step 7 for one hop: the literal address, or every address the name resolves to, must be
  // allowed; those addresses are the only ones the hop may connect to.
  asio::awaitable<std::vector<tcp::endpoint>> resolve(const ParsedUrl& url) {
    if (url.scheme != "http" && url.scheme != "https")
      throw Error(errc::invalid_request, fetchFailedMessage(fmt::format("unsupported URL scheme: {}", url.scheme)));
    std::vector<tcp::endpoint> endpoints;
    if (url.ipLiteral) {
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(url.hostName, ec);
      if (!ec) endpoints.emplace_back(address, url.effectivePort());
    } else {
      // The timer cancels the lookup at the deadline; it may fire after this frame is gone,
      // so what it touches is shared.
      auto resolver = std::make_shared<tcp::resolver>(executor_);
      auto expired = std::make_shared<bool>(false);
      asio::steady_timer timer(executor_, deadline_);
      timer.async_wait([resolver, expired](const boost::system::error_code& ec) {
        if (!ec) {
          *expired = true;
          resolver->cancel();
        }
      });
      auto [ec, results] = co_await resolver->async_resolve(url.hostName, std::to_string(url.effectivePort()),
                                                            tcp::resolver::numeric_service,
                                                            asio::as_tuple(use_awaitable));
      timer.cancel();
      if (*expired || Clock::now() >= deadline_) timedOut();
      if (!ec)
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    std::vector<IpAddress> addresses;
    for (const auto& endpoint : endpoints) addresses.push_back(fromAsio(endpoint.address()));
    checkCodeUrlAddresses(policy_, url, addresses);  // empty: "Failed to resolve code URL host"
    co_return endpoints;
  }

  // Steps 9-10: GET, following redirects, every target checked and resolved before it is
  // contacted.
  asio::awaitable<std::string> get(ParsedUrl url, std::vector<tcp::endpoint> endpoints) {
    for (int redirects = 0;; ++redirects) {
      HopResult hop = co_await fetchOnce(url, endpoints);
      if (!hop.location) co_return std::move(hop.body);
      if (redirects == kMaxRedirects)
        throw Error(errc::io_error, fetchFailedMessage(fmt::format("too many redirects (more than {})", kMaxRedirects)));
      ParsedUrl next;
      try {
        next = resolveUrl(url, *hop.location);
      } catch (const Error&) {
        throw Error(errc::io_error, fetchFailedMessage(fmt::format("invalid redirect location: {}", *hop.location)));
      }
      log_.debug("remote code: {} redirects to {}", url.href(), next.href());
      checkCodeUrlSchemeAndHost(policy_, next, allowInsecure_);
      endpoints = co_await resolve(next);
      url = std::move(next);
    }
  }

 private:
  [[noreturn]] void timedOut() const { throw Error(errc::io_error, fetchTimedOutMessage(policy_.fetchTimeoutMs)); }

  [[noreturn]] void failed(const boost::system::error_code& ec) const {
    if (ec == beast::error::timeout || Clock::now() >= deadline_) timedOut();
    throw Error(errc::io_error, fetchFailedMessage(ec.message()));
  }

  asio::awaitable<HopResult> fetchOnce(const ParsedUrl& url, const std::vector<tcp::endpoint>& endpoints) {
    if (url.hasCredentials)
      throw Error(errc::invalid_request, fetchFailedMessage("URLs with credentials (user:password@) are not supported"));
    if (Clock::now() >= deadline_) timedOut();
    beast::tcp_stream tcpStream(executor_);
    tcpStream.expires_at(deadline_);
    auto [cec, connected] = co_await tcpStream.async_connect(endpoints, asio::as_tuple(use_awaitable));
    if (cec) failed(cec);
    log_.debug("remote code: GET {} ({})", url.href(), connected.address().to_string());
    if (url.scheme == "http") co_return co_await exchange(tcpStream, url);

    ssl::context context = makeTlsClientContext();
    beast::ssl_stream<beast::tcp_stream> tlsStream(std::move(tcpStream), context);
    if (!prepareTlsClient(tlsStream, url.hostName, url.ipLiteral))
      throw Error(errc::io_error, fetchFailedMessage("cannot set the TLS server name"));
    beast::get_lowest_layer(tlsStream).expires_at(deadline_);
    auto [hec] = co_await tlsStream.async_handshake(ssl::stream_base::client, asio::as_tuple(use_awaitable));
    if (hec) failed(hec);
    co_return co_await exchange(tlsStream, url);
  }

  template <typename Stream>
  asio::awaitable<HopResult> exchange(Stream& stream, const ParsedUrl& url) {
    http::request<http::empty_body> request(http::verb::get, url.target, 11);
    request.set(http::field::host, url.hostHeader());
    request.set(http::field::user_agent, fmt::format("isol8/{}", version()));
    request.set(http::field::accept, "*/*");
    request.set(http::field::connection, "close");
    beast::get_lowest_layer(stream).expires_at(deadline_);
    auto [wec, written] = co_await http::async_write(stream, request, asio::as_tuple(use_awaitable));
    if (wec) failed(wec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // Content-Length is judged below, with its own message
    auto [hec, headerBytes] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (hec) failed(hec);

    const unsigned status = parser.get().result_int();
    HopResult result;
    if (isRedirect(status)) {
      const auto location = parser.get().find(http::field::location);
      if (location != parser.get().end()) {
        result.location = std::string(location->value());
        co_return result;
      }
    }
    if (status < 200 || status > 299) throw Error(errc::io_error, httpStatusMessage(static_cast<int>(status)));

    const auto max = static_cast<std::uint64_t>(std::max<std::int64_t>(policy_.maxCodeSize, 0));
    if (const auto length = parser.content_length(); length && *length > max)
      throw Error(errc::invalid_request, contentLengthTooLargeMessage(policy_.maxCodeSize, *length));
    parser.body_limit(max);
    auto [bec, bodyBytes] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (bec == http::error::body_limit) throw Error(errc::invalid_request, bodyTooLargeMessage(policy_.maxCodeSize));
    if (bec) failed(bec);
    result.body = parser.release().body();
    co_return result;
  }

  asio::any_io_executor executor_;
  const RemoteCodePolicy& policy_;
  bool allowInsecure_;
  Logger log_;
  Clock::time_point deadline_;
};

}  // namespace

asio::awaitable<std::string> fetchRemoteCode(const RemoteCodePolicy& policy, const std::string& url,
                                             const std::string& codeHash, bool allowInsecure, Logger log) {
  checkRemoteCodeEnabled(policy, url);                            // steps 1-2
  ParsedUrl parsed = checkCodeUrl(policy, url, allowInsecure);    // steps 3-6
  Fetcher fetcher(co_await asio::this_coro::executor, policy, allowInsecure, std::move(log));
  auto endpoints = co_await fetcher.resolve(parsed);              // step 7
  checkHashRequired(policy, codeHash);                            // step 8
  std::string body = co_await fetcher.get(std::move(parsed), std::move(endpoints));  // steps 9-10
  std::string code = decodeFetchedCode(std::move(body));          // step 11
  checkCodeHash(code, codeHash);                                  // step 12
  co_return code;
}

}  // namespace isol8::detail
