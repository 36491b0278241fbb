#include "server/http_types.hpp"

#include <boost/json/serialize.hpp>

#include "isol8/error.hpp"
#include "json/wire.hpp"

namespace isol8::server {

namespace json = boost::json;

Response Response::json(int status, const json::value& body) {
  return Response{status, "application/json", json::serialize(body)};
}

Response Response::error(int status, std::string_view message) {
  return json(status, json::object{{"error", message}});
}

Response Response::notFound() { return Response{404, "text/plain; charset=UTF-8", "404 Not Found"}; }

namespace {

int failureStatus(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  if (!error) return 500;
  const std::error_code code = error->code();
  if (code == errc::invalid_request) return 400;
  if (code == errc::no_container) return 409;
  if (code == errc::container_gone) return 410;
  if (code == errc::docker_unavailable) return 503;
  return 500;
}

}  // namespace

std::string failureMessage(const std::exception& e) {
  std::string message = e.what();
  if (failureStatus(e) == 503) message = message.substr(0, message.find('\n'));
  return message;
}

bool isContainerGone(const std::exception& e) { return failureStatus(e) == 410; }

Response Response::failure(const std::exception& e) { return error(failureStatus(e), failureMessage(e)); }

json::object bodyObject(const Request& request, bool emptyIsObject) {
  if (emptyIsObject && request.body.find_first_not_of(" \t\r\n") == std::string::npos) return {};
  json::value value;
  try {
    value = wire::parse(request.body, "body");
  } catch (const Error& e) {
    throw HttpError(400, e.message());
  }
  if (!value.is_object()) throw HttpError(400, "body must be a JSON object");
  return std::move(value.get_object());
}

Request makeRequest(std::string_view method, std::string_view target, std::string_view authorization,
                    std::string body) {
  Request r;
  r.method = std::string(method);
  const auto question = target.find('?');
  r.path = percentDecode(target.substr(0, question), false);
  if (question != std::string_view::npos) r.query = parseQuery(target.substr(question + 1));
  r.authorization = std::string(authorization);
  r.body = std::move(body);
  return r;
}

json::object takeBodyObject(Request& request) {
  json::object body = bodyObject(request);
  std::string().swap(request.body);
  return body;
}

std::string percentDecode(std::string_view text, bool plusIsSpace) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
        hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> result;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string name = percentDecode(pair.substr(0, eq), true);
    result[name] = eq == std::string_view::npos ? std::string() : percentDecode(pair.substr(eq + 1), true);
  }
  return result;
}

}  // namespace isol8::server
