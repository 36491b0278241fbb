// isol8-server's request path (server/http_types.hpp, server/policy.hpp): raw bytes through
// Beast's parser (as http_transport.cpp reads them), the target split and percent-decoded,
// the body read as an execute envelope and checked against the default policy, as
// prepareRun does before it picks an engine. Invariants: decoding never grows a path or
// query; options the policy lets through make valid engine options.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "engine/request_validation.hpp"
#include "fuzz_support.hpp"
#include "isol8/config.hpp"
#include "isol8/error.hpp"
#include "server/http_types.hpp"
#include "server/policy.hpp"

using namespace isol8;
namespace http = boost::beast::http;

namespace {

// Far below the server's 64 MiB: the fuzzer's inputs are small anyway.
constexpr std::uint64_t kBodyLimit = 1 << 20;

std::optional<http::request<http::string_body>> parseHttp(std::string_view bytes) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  boost::beast::error_code ec;
  while (!bytes.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) return std::nullopt;  // need_more included: the connection would wait for more
    bytes.remove_prefix(used);
  }
  if (!parser.is_done()) return std::nullopt;
  return parser.release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Config config;
  const auto message = parseHttp(fuzz::text(data, size));
  if (!message) return 0;
  const std::string_view target = message->target();
  const server::Request request = server::makeRequest(message->method_string(), target,
                                                      (*message)[http::field::authorization], message->body());
  fuzz::require(request.path.size() <= target.size());
  for (const auto& [name, value] : request.query) fuzz::require(name.size() + value.size() <= target.size());

  wire::ExecuteBody body;
  const bool accepted = fuzz::completes<server::HttpError>([&] {
    body = server::checkedExecuteBody(config, server::bodyObject(request));
  });
  if (!accepted) return 0;
  fuzz::require(!body.options.timeoutMs && (!body.request.timeoutMs || *body.request.timeoutMs > 0));
  detail::validateOptions(server::requestEngineOptions(config, body.options));  // an Error here escapes
  return 0;
}
