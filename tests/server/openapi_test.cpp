// docs/openapi.json against the real isol8-server: the document lists exactly the routes the
// server serves, and every operation answers as documented. Each operation's `x-isol8-test`
// gives the status its example request must get (after its `before` requests); the body that
// comes back is checked against the documented schema of that status (required properties,
// JSON types, enums, formats, nested objects and arrays, $refs resolved). SSE bodies are
// checked frame by frame, WebSocket messages one by one.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "server_fixture.hpp"
#include "support.hpp"

namespace json = boost::json;
using namespace isol8::test;

namespace {

// ---- the document -------------------------------------------------------------------------

const json::object& document() {
  static const json::object doc = [] {
    std::ifstream in(ISOL8_OPENAPI_PATH, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " ISOL8_OPENAPI_PATH);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str()).as_object();
  }();
  return doc;
}

// Follows "$ref": "#/a/b/c" (repeatedly) inside the document.
const json::object& resolve(const json::object& node) {
  const json::object* at = &node;
  for (int depth = 0; depth < 16; ++depth) {
    const auto* ref = at->if_contains("$ref");
    if (!ref) return *at;
    const std::string target(ref->as_string());
    REQUIRE(target.rfind("#/", 0) == 0);
    const json::object* o = &document();
    std::istringstream parts(target.substr(2));
    for (std::string part; std::getline(parts, part, '/');) o = &o->at(part).as_object();
    at = o;
  }
  FAIL("$ref chain too long");
  return *at;
}

struct Operation {
  std::string method;  // upper case
  std::string path;    // as documented: /session/{id}
  const json::object* op;
  std::string name() const { return method + " " + path; }
};

std::vector<Operation> operations() {
  std::vector<Operation> result;
  for (const auto& [path, item] : document().at("paths").as_object())
    for (const auto& [method, op] : item.as_object()) {
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      result.push_back({upper, std::string(path), &op.as_object()});
    }
  return result;
}

// The operation's security requirement names ("bearerAuth", "masterKey"); empty: no auth.
std::set<std::string> securityOf(const Operation& o) {
  const auto* own = o.op->if_contains("security");
  const json::array& reqs = own ? own->as_array() : document().at("security").as_array();
  std::set<std::string> names;
  for (const auto& req : reqs)
    for (const auto& [name, scopes] : req.as_object()) names.insert(std::string(name));
  return names;
}

const json::object& testSpec(const Operation& o) { return o.op->at("x-isol8-test").as_object(); }

// The documented response for `status` (resolved), or nullptr.
const json::object* documentedResponse(const Operation& o, int status) {
  const auto& responses = o.op->at("responses").as_object();
  const auto* r = responses.if_contains(std::to_string(status));
  return r ? &resolve(r->as_object()) : nullptr;
}

// ---- schema checking ----------------------------------------------------------------------

using Problems = std::vector<std::string>;

bool matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

void checkFormat(const std::string& text, const json::object& schema, const std::string& where, Problems& out) {
  static const std::map<std::string, const char*> formats = {
      {"byte", "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"},
      {"date-time", R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$)"},
      {"uuid", "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"},
  };
  if (const auto* f = schema.if_contains("format")) {
    const auto it = formats.find(std::string(f->as_string()));
    if (it != formats.end() && !matches(text, it->second))
      out.push_back(fmt::format("{}: \"{}\" is not of format {}", where, text, it->first));
  }
  if (const auto* p = schema.if_contains("pattern"); p && !matches(text, std::string(p->as_string()).c_str()))
    out.push_back(fmt::format("{}: \"{}\" does not match {}", where, text, json::serialize(*p)));
  if (const auto* m = schema.if_contains("minLength"); m && static_cast<std::int64_t>(text.size()) < m->to_number<std::int64_t>())
    out.push_back(fmt::format("{}: shorter than {}", where, json::serialize(*m)));
}

bool hasType(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_int64() || v.is_uint64() || (v.is_double() && v.as_double() == static_cast<double>(static_cast<std::int64_t>(v.as_double())));
  return false;
}

void validate(const json::value& v, const json::object& schemaNode, const std::string& where, Problems& out);

void validateObject(const json::object& o, const json::object& schema, const std::string& where, Problems& out) {
  if (const auto* required = schema.if_contains("required"))
    for (const auto& name : required->as_array())
      if (!o.contains(name.as_string())) out.push_back(fmt::format("{}: required property {} missing", where, json::serialize(name)));
  const auto* props = schema.if_contains("properties");
  const auto* extra = schema.if_contains("additionalProperties");
  for (const auto& [key, value] : o) {
    const std::string at = fmt::format("{}.{}", where, std::string(key));
    if (const auto* p = props ? props->as_object().if_contains(key) : nullptr)
      validate(value, p->as_object(), at, out);
    else if (extra && extra->is_object())
      validate(value, extra->as_object(), at, out);
  }
}

void validate(const json::value& v, const json::object& schemaNode, const std::string& where, Problems& out) {
  const json::object& schema = resolve(schemaNode);
  if (v.is_null()) {
    const auto* nullable = schema.if_contains("nullable");
    if (!nullable || !nullable->as_bool()) out.push_back(where + ": null where the schema is not nullable");
    return;
  }
  if (const auto* oneOf = schema.if_contains("oneOf")) {
    int matched = 0;
    for (const auto& alternative : oneOf->as_array()) {
      Problems scratch;
      validate(v, alternative.as_object(), where, scratch);
      matched += scratch.empty() ? 1 : 0;
    }
    if (matched != 1) out.push_back(fmt::format("{}: matches {} of the oneOf alternatives, not 1", where, matched));
    return;
  }
  if (const auto* type = schema.if_contains("type"); type && !hasType(v, type->as_string())) {
    out.push_back(fmt::format("{}: {} is not of type {}", where, json::serialize(v), json::serialize(*type)));
    return;
  }
  if (const auto* e = schema.if_contains("enum")) {
    const auto& values = e->as_array();
    if (std::find(values.begin(), values.end(), v) == values.end())
      out.push_back(fmt::format("{}: {} is not one of {}", where, json::serialize(v), json::serialize(*e)));
  }
  if (v.is_object()) validateObject(v.as_object(), schema, where, out);
  if (v.is_array())
    if (const auto* items = schema.if_contains("items"); items)
      for (std::size_t i = 0; i < v.as_array().size(); ++i)
        validate(v.as_array()[i], items->as_object(), fmt::format("{}[{}]", where, i), out);
  if (v.is_string()) checkFormat(std::string(v.as_string()), schema, where, out);
  if (v.is_number())
    if (const auto* min = schema.if_contains("minimum"); min && v.to_number<double>() < min->to_number<double>())
      out.push_back(fmt::format("{}: below the minimum {}", where, json::serialize(*min)));
}

// Every problem as one CHECK failure, so a run shows them all.
void checkConforms(const json::value& v, const json::object& schema, const std::string& where) {
  Problems problems;
  validate(v, schema, where, problems);
  for (const auto& p : problems) FAIL_CHECK(p);
}

std::optional<json::value> parseJson(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

// ---- talking to the server ------------------------------------------------------------------

constexpr const char* kExampleSession = "openapi-example";

// A server with a key database; it prewarms python only (the examples' runtime).
struct Server {
  TempDir dir;
  ServerProcess process{ServerLaunch{.authDb = dir.path + "/auth.db", .configJson = R"({"server":{"prewarm":["python"]}})"}};
};

std::string percentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::string_view("-._~/").find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

struct Request {
  std::string method;
  std::string target;  // /path?query
  std::string body;    // empty: none
  int expectedStatus = 0;  // variants: what x-isol8-test says they get
};

// The operation's example request: path parameters from `captured` or their examples, query
// parameters from their examples, the JSON body from the request body's example.
Request exampleRequest(const Operation& o, const std::map<std::string, std::string>& captured = {}) {
  Request r{o.method, o.path, {}};
  std::string query;
  if (const auto* params = o.op->if_contains("parameters"))
    for (const auto& pv : params->as_array()) {
      const auto& p = resolve(pv.as_object());
      const std::string name(p.at("name").as_string()), in(p.at("in").as_string());
      if (in == "path") {
        const auto it = captured.find(name);
        const std::string value = it != captured.end() ? it->second : std::string(p.at("example").as_string());
        const auto pos = r.target.find("{" + name + "}");
        REQUIRE(pos != std::string::npos);
        r.target.replace(pos, name.size() + 2, percentEncode(value));
      } else if (in == "query" && p.contains("example")) {
        query += fmt::format("{}{}={}", query.empty() ? "?" : "&", name, percentEncode(std::string(p.at("example").as_string())));
      }
    }
  r.target += query;
  if (const auto* body = o.op->if_contains("requestBody"))
    if (const auto* example = resolve(body->as_object()).at("content").as_object().at("application/json").as_object().if_contains("example"))
      r.body = json::serialize(*example);
  return r;
}

// x-isol8-test.variants: the example with another body or target.
std::vector<Request> variantRequests(const Operation& o, const Request& example) {
  std::vector<Request> out;
  const auto* variants = testSpec(o).if_contains("variants");
  if (!variants) return out;
  for (const auto& v : variants->as_array()) {
    Request r = example;
    if (const auto* target = v.as_object().if_contains("target")) r.target = std::string(target->as_string());
    if (const auto* body = v.as_object().if_contains("body")) r.body = json::serialize(*body);
    r.expectedStatus = v.at("status").to_number<int>();
    out.push_back(std::move(r));
  }
  return out;
}

HttpResponse send(const Server& s, const Request& r, const std::optional<std::string>& key) {
  Headers headers;
  if (key) headers.push_back(bearer(*key));
  return httpRequest(r.method, s.process.url() + r.target, r.body, headers);
}

// Runs the operation's `before` requests with the master key; returns what they captured.
std::map<std::string, std::string> runBefore(const Server& s, const Operation& o) {
  std::map<std::string, std::string> captured;
  const auto* before = testSpec(o).if_contains("before");
  if (!before) return captured;
  for (const auto& item : before->as_array()) {
    const auto& b = resolve(item.as_object());
    const Request r{std::string(b.at("method").as_string()), std::string(b.at("path").as_string()),
                    json::serialize(b.at("body"))};
    const auto response = send(s, r, s.process.masterKey());
    INFO("before " << r.method << " " << r.target << " " << r.body << " -> " << response.status << " " << response.body);
    REQUIRE(response.status == b.at("status").to_number<int>());
    if (const auto* capture = b.if_contains("capture"))
      for (const auto& key : capture->as_array())
        captured[std::string(key.as_string())] = std::string(json::parse(response.body).at(key.as_string()).as_string());
  }
  return captured;
}

std::string mediaType(const HttpResponse& r) {
  std::string type = r.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

// The SSE body: frames `data: <one-line JSON>\n\n` or comments `: ...\n\n`; returns the events.
std::vector<json::value> sseEvents(const std::string& body, const json::object& eventSchema) {
  std::vector<json::value> events;
  std::size_t at = 0;
  while (at < body.size()) {
    const auto end = body.find("\n\n", at);
    INFO("SSE body: " << body);
    REQUIRE(end != std::string::npos);  // every frame ends with a blank line
    const std::string frame = body.substr(at, end - at);
    at = end + 2;
    REQUIRE(frame.find('\n') == std::string::npos);  // one line per frame
    if (frame.rfind(":", 0) == 0) continue;          // comment (": keep-alive")
    REQUIRE(frame.rfind("data: ", 0) == 0);
    auto event = parseJson(frame.substr(6));
    REQUIRE(event);
    checkConforms(*event, eventSchema, "event " + std::to_string(events.size()));
    events.push_back(std::move(*event));
  }
  return events;
}

// Checks a response against the operation's documentation: the status is documented, and a
// body documented as JSON (or as an event stream) conforms to the schema of that status.
void checkDocumented(const Operation& o, const HttpResponse& r) {
  INFO(o.name() << " -> " << r.status << " " << r.header("content-type") << "\n" << r.body);
  const auto* documented = documentedResponse(o, r.status);
  REQUIRE(documented);
  const auto* content = documented->if_contains("content");
  if (!content) return;
  const std::string type = mediaType(r);
  const auto* media = content->as_object().if_contains(type);
  REQUIRE(media);  // the content type is one that is documented for this status
  if (type == "text/event-stream") {
    const auto events = sseEvents(r.body, media->at("x-isol8-event-schema").as_object());
    REQUIRE_FALSE(events.empty());
    CHECK(events.back().at("type").as_string() == "exit");
    return;
  }
  const auto body = parseJson(r.body);
  REQUIRE(body);
  checkConforms(*body, media->at("schema").as_object(), "body");
}

// Upgrade headers aside, the WebSocket route is driven by wsExchange.
bool isWebSocket(const Operation& o) { return testSpec(o).contains("wsMessages"); }

std::vector<std::string> wsMessages(const Operation& o) {
  std::vector<std::string> out;
  for (const auto& m : testSpec(o).at("wsMessages").as_array()) out.push_back(json::serialize(m));
  return out;
}

const std::string kUnknownRouteBody = "404 Not Found";

bool isUnknownRoute(const HttpResponse& r) { return r.status == 404 && r.body == kUnknownRouteBody; }

Operation operation(const std::string& name) {
  for (const auto& o : operations())
    if (o.name() == name) return o;
  FAIL("not documented: " << name);
  return {};
}

// A database key of its own tenant, made with the master key.
std::string tenantKey(const Server& s, const std::string& tenant) {
  const auto created = send(s, {"POST", "/auth/keys", fmt::format(R"({{"name":"openapi-{0}","tenantId":"{0}"}})", tenant)},
                            s.process.masterKey());
  REQUIRE(created.status == 201);
  return std::string(json::parse(created.body).at("key").as_string());
}

bool listsSession(const HttpResponse& sessions, const std::string& id) {
  const json::value body = json::parse(sessions.body);
  for (const auto& session : body.at("sessions").as_array())
    if (session.at("id").as_string() == id) return true;
  return false;
}

}  // namespace

// ---- the document alone ---------------------------------------------------------------------

TEST_CASE("openapi: the document lists exactly the routes the server serves", "[server][openapi]") {
  // From the original's contract (spec A.4), which isol8-server keeps.
  const std::set<std::string> served = {
      "GET /health",       "POST /execute",          "POST /execute/stream", "GET /execute/ws",
      "POST /file",        "GET /file",              "GET /sessions",        "DELETE /session/{id}",
      "POST /cleanup",     "POST /auth/keys",        "GET /auth/keys",       "DELETE /auth/keys/{id}",
      "POST /auth/login"};
  std::set<std::string> documented;
  for (const auto& o : operations()) documented.insert(o.name());
  for (const auto& route : served) {
    INFO("served route " << route);
    CHECK(documented.count(route) == 1);
  }
  for (const auto& route : documented) {
    INFO("documented route " << route);
    CHECK(served.count(route) == 1);
  }
  CHECK(std::string(document().at("openapi").as_string()).rfind("3.0.", 0) == 0);
}

TEST_CASE("openapi: every operation has a test example and documents its auth failures", "[server][openapi]") {
  for (const auto& o : operations()) {
    INFO(o.name());
    const auto& spec = testSpec(o);
    REQUIRE(documentedResponse(o, spec.at("status").to_number<int>()));
    if (const auto* body = o.op->if_contains("requestBody")) {
      const auto& media = resolve(body->as_object()).at("content").as_object().at("application/json").as_object();
      REQUIRE(media.contains("example"));
      checkConforms(media.at("example"), media.at("schema").as_object(), "example body");  // examples are valid requests
    }
    const auto security = securityOf(o);
    if (security.empty()) continue;
    for (int status : {401, 403}) {
      const auto* r = documentedResponse(o, status);
      REQUIRE(r);
      const auto& schema = resolve(r->at("content").at("application/json").at("schema").as_object());
      CHECK(schema == resolve(document().at("components").at("schemas").at("Error").as_object()));
    }
  }
}

// ---- against the server -------------------------------------------------------------------

TEST_CASE("openapi: the server serves every documented route", "[server][openapi]") {
  Server s;
  // What an unknown route looks like, so that the check below can fail.
  const auto unknown = send(s, {"GET", "/openapi-test/no-such-route", {}}, s.process.masterKey());
  REQUIRE(isUnknownRoute(unknown));
  for (const auto& o : operations()) {
    if (isWebSocket(o)) {  // served only as an upgrade: an unknown message type gets an error frame
      const auto ws = wsExchange(s.process.url(), {bearer(s.process.masterKey())}, {R"({"type":"openapi-probe"})"}, 1);
      INFO(o.name() << " -> handshake " << ws.handshakeStatus);
      CHECK(ws.upgraded);
      CHECK(ws.messages.size() == 1);
      continue;
    }
    const auto r = send(s, exampleRequest(o), s.process.masterKey());
    INFO(o.name() << " -> " << r.status << " " << r.body);
    CHECK_FALSE(isUnknownRoute(r));
  }
}

TEST_CASE("openapi: without a key every operation but /health gets 401, with a wrong key 403", "[server][openapi]") {
  Server s;
  for (const auto& o : operations()) {
    INFO(o.name());
    const Request example = exampleRequest(o);
    if (securityOf(o).empty()) {
      const auto r = send(s, example, std::nullopt);
      CHECK(r.status == testSpec(o).at("status").to_number<int>());
      checkDocumented(o, r);
      continue;
    }
    if (isWebSocket(o)) {
      const auto none = wsExchange(s.process.url(), {}, wsMessages(o));
      CHECK_FALSE(none.upgraded);
      CHECK(none.handshakeStatus == 401);
      const auto wrong = wsExchange(s.process.url(), {bearer("not-a-key")}, wsMessages(o));
      CHECK_FALSE(wrong.upgraded);
      CHECK(wrong.handshakeStatus == 403);
      continue;
    }
    const auto none = send(s, example, std::nullopt);
    CHECK(none.status == 401);
    checkDocumented(o, none);
    CHECK(json::parse(none.body).at("error").as_string() == "Missing Authorization header");
    const auto wrong = send(s, example, "not-a-key");
    CHECK(wrong.status == 403);
    checkDocumented(o, wrong);
    CHECK(json::parse(wrong.body).at("error").as_string() == "Invalid API key");
  }
}

TEST_CASE("openapi: each operation's example gets its documented status and body", "[server][openapi]") {
  Server s;
  for (const auto& o : operations()) {
    INFO(o.name());
    const auto captured = runBefore(s, o);
    const int expected = testSpec(o).at("status").to_number<int>();
    if (isWebSocket(o)) {
      const auto ws = wsExchange(s.process.url(), {bearer(s.process.masterKey())}, wsMessages(o));
      REQUIRE(ws.upgraded);
      CHECK(documentedResponse(o, 101));
      const auto& eventSchema = documentedResponse(o, 101)->at("x-isol8-server-message-schema").as_object();
      std::string stdoutText;
      for (const auto& m : ws.messages) {
        INFO("message " << m);
        const auto event = parseJson(m);
        REQUIRE(event);
        checkConforms(*event, eventSchema, "message");
        if (event->at("type").as_string() == "stdout") stdoutText += event->at("data").as_string();
      }
      REQUIRE_FALSE(ws.messages.empty());
      CHECK(json::parse(ws.messages.back()).at("type").as_string() == "exit");
      CHECK(stdoutText == "hello\n");
      CHECK(ws.closeCode == 1000);
      continue;
    }
    const Request example = exampleRequest(o, captured);
    const auto r = send(s, example, s.process.masterKey());
    INFO(example.method << " " << example.target << " " << example.body);
    CHECK(r.status == expected);
    checkDocumented(o, r);
    for (const Request& variant : variantRequests(o, example)) {
      const auto answer = send(s, variant, s.process.masterKey());
      INFO("variant " << variant.target << " " << variant.body);
      CHECK(answer.status == variant.expectedStatus);
      checkDocumented(o, answer);
    }
  }
}

TEST_CASE("openapi: the /auth operations refuse a database key with 403", "[server][openapi]") {
  Server s;
  const std::string key = tenantKey(s, "team-b");
  int masterOnly = 0;
  for (const auto& o : operations()) {
    if (securityOf(o) != std::set<std::string>{"masterKey"}) continue;
    ++masterOnly;
    const auto r = send(s, exampleRequest(o), key);
    INFO(o.name() << " -> " << r.status << " " << r.body);
    CHECK(r.status == 403);
    checkDocumented(o, r);
    CHECK(json::parse(r.body).at("error").as_string() == "Master key required for this operation");
  }
  CHECK(masterOnly == 4);
}

TEST_CASE("openapi: a body that is not JSON gets a documented 400 where a body is required", "[server][openapi]") {
  Server s;
  for (const auto& o : operations()) {
    const auto* body = o.op->if_contains("requestBody");
    if (!body || !resolve(body->as_object()).at("required").as_bool()) continue;
    Request r = exampleRequest(o);
    r.body = "{\"request\": ";
    const auto response = send(s, r, s.process.masterKey());
    INFO(o.name() << " -> " << response.status << " " << response.body);
    CHECK(response.status == 400);
    checkDocumented(o, response);
    CHECK(std::string(json::parse(response.body).at("error").as_string()).rfind("body must be valid JSON: ", 0) == 0);
  }
}

TEST_CASE("openapi: another tenant's key does not find a session (404 on /file, not listed, delete leaves it)",
          "[server][openapi]") {
  Server s;
  const Operation getFile = operation("GET /file"), putFile = operation("POST /file"),
                  list = operation("GET /sessions"), remove = operation("DELETE /session/{id}");
  runBefore(s, getFile);  // the master key's session kExampleSession
  const std::string other = tenantKey(s, "team-c");
  for (const auto& o : {getFile, putFile}) {
    const auto r = send(s, exampleRequest(o), other);
    INFO(o.name() << " -> " << r.status << " " << r.body);
    CHECK(r.status == 404);
    checkDocumented(o, r);
    CHECK(json::parse(r.body).at("error").as_string() == "Session not found");
  }
  const auto listed = send(s, exampleRequest(list), other);
  checkDocumented(list, listed);
  CHECK_FALSE(listsSession(listed, kExampleSession));
  const auto removed = send(s, exampleRequest(remove), other);
  CHECK(removed.status == 200);
  checkDocumented(remove, removed);
  // The owner still has it.
  CHECK(listsSession(send(s, exampleRequest(list), s.process.masterKey()), kExampleSession));
  CHECK(send(s, exampleRequest(getFile), s.process.masterKey()).status == 200);
}
