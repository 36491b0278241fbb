#include "json/wire.hpp"

#include <cmath>
#include <limits>

#include <boost/json/array.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>

#include "engine/request_validation.hpp"
#include "isol8/error.hpp"
#include "util/text.hpp"

namespace isol8::wire {

namespace json = boost::json;

namespace {

// ---- paths and failures ----

[[noreturn]] void fail(std::string_view path, std::string_view what) {
  throw Error(errc::invalid_request, fmt::format("{} must be {}", path, what));
}

std::string bufferBytes(const json::value& value, const std::string& path) {
  if (!value.is_array()) fail(path, "an array of bytes (0-255)");
  std::string bytes;
  bytes.reserve(value.get_array().size());
  for (const auto& b : value.get_array()) {
    if (!b.is_int64() || b.get_int64() < 0 || b.get_int64() > 255) fail(path, "an array of bytes (0-255)");
    bytes.push_back(static_cast<char>(b.get_int64()));
  }
  return bytes;
}

std::string member(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

// A map entry: request.env["HOME"] (the key quoted as a JSON string, so any key reads back).
std::string entry(std::string_view path, std::string_view key) {
  return fmt::format("{}[{}]", path, json::serialize(json::string(key)));
}

std::string element(std::string_view path, std::size_t index) { return fmt::format("{}[{}]", path, index); }

// ---- reading values ----

// The value of `key`, or nullptr when it is absent or null (both mean "not given").
const json::value* field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return (value && !value->is_null()) ? value : nullptr;
}

const json::object& asObject(const json::value& value, std::string_view path) {
  if (!value.is_object()) fail(path, "an object");
  return value.get_object();
}

std::string asString(const json::value& value, std::string_view path) {
  if (!value.is_string()) fail(path, "a string");
  return std::string(value.get_string());
}

bool asBool(const json::value& value, std::string_view path) {
  if (!value.is_bool()) fail(path, "a boolean");
  return value.get_bool();
}

enum class Sign { any, nonNegative, positive };

// A whole number within int64 (3e4 and 30000.0 count: JSON does not tell them apart).
std::int64_t asInteger(const json::value& value, std::string_view path, Sign sign) {
  const char* what = sign == Sign::positive ? "a positive integer" : sign == Sign::nonNegative ? "a non-negative integer" : "an integer";
  std::int64_t result = 0;
  if (value.is_int64()) {
    result = value.get_int64();
  } else if (value.is_double()) {
    const double d = value.get_double();
    // 2^63 is exactly representable; everything below it converts without overflow.
    if (!std::isfinite(d) || std::floor(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
      fail(path, what);
    result = static_cast<std::int64_t>(d);
  } else {
    fail(path, what);  // not a number, or a uint64 above int64's range
  }
  if ((sign == Sign::positive && result <= 0) || (sign == Sign::nonNegative && result < 0)) fail(path, what);
  return result;
}

int asInt(const json::value& value, std::string_view path) {
  const std::int64_t n = asInteger(value, path, Sign::any);
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) fail(path, "an integer");
  return static_cast<int>(n);
}

// A duration read back from a server: any non-negative number, rounded to whole milliseconds.
std::int64_t asDurationMs(const json::value& value, std::string_view path) {
  if (!value.is_number()) fail(path, "a non-negative number");
  const double d = value.to_number<double>();
  if (!std::isfinite(d) || d < 0 || d >= 9.2e18) fail(path, "a non-negative number");
  return value.is_double() ? static_cast<std::int64_t>(std::llround(d)) : asInteger(value, path, Sign::nonNegative);
}

double asPositiveNumber(const json::value& value, std::string_view path) {
  if (!value.is_number()) fail(path, "a positive number");
  const double d = value.to_number<double>();
  if (!std::isfinite(d) || !(d > 0)) fail(path, "a positive number");
  return d;
}

std::vector<std::string> asStringList(const json::value& value, std::string_view path) {
  if (!value.is_array()) fail(path, "an array of strings");
  std::vector<std::string> items;
  items.reserve(value.get_array().size());
  for (std::size_t i = 0; i < value.get_array().size(); ++i) items.push_back(asString(value.get_array()[i], element(path, i)));
  return items;
}

std::map<std::string, std::string> asStringMap(const json::value& value, std::string_view path) {
  if (!value.is_object()) fail(path, "an object of strings");
  std::map<std::string, std::string> map;
  for (const auto& kv : value.get_object()) map[std::string(kv.key())] = asString(kv.value(), entry(path, kv.key()));
  return map;
}

template <typename Enum>
Enum asEnum(const json::value& value, std::string_view path, std::optional<Enum> (*parse)(const std::string&),
            std::string_view allowed) {
  const std::string what = fmt::format("one of {}", allowed);
  if (!value.is_string()) fail(path, what);
  const auto parsed = parse(std::string(value.get_string()));
  if (!parsed) fail(path, what);
  return *parsed;
}

std::optional<StreamEvent::Type> parseEventType(const std::string& text) {
  if (text == "stdout") return StreamEvent::Type::stdout_data;
  if (text == "stderr") return StreamEvent::Type::stderr_data;
  if (text == "exit") return StreamEvent::Type::exit;
  if (text == "error") return StreamEvent::Type::error;
  return std::nullopt;
}

std::optional<StreamEvent::Phase> parsePhase(const std::string& text) {
  if (text == "setup") return StreamEvent::Phase::setup;
  if (text == "code") return StreamEvent::Phase::code;
  return std::nullopt;
}

std::string decodeBase64(const json::value& value, std::string_view path) {
  if (!value.is_string()) fail(path, "a base64 string");
  auto bytes = detail::base64Decode(value.get_string());
  if (!bytes) fail(path, "valid base64");
  return std::move(*bytes);
}

// Reading helpers that store into `out` only when the key is given.
void readString(const json::object& o, std::string_view path, std::string_view key, std::string& out) {
  if (const auto* v = field(o, key)) out = asString(*v, member(path, key));
}
void readString(const json::object& o, std::string_view path, std::string_view key, std::optional<std::string>& out) {
  if (const auto* v = field(o, key)) out = asString(*v, member(path, key));
}
// A size option ("512m"): read as text, but refused here, with its name, when it is no size.
void readSize(const json::object& o, std::string_view path, std::string_view key, std::optional<std::string>& out) {
  readString(o, path, key, out);
  if (!out) return;
  try {
    detail::parseSize(*out, key);
  } catch (const Error&) {
    fail(member(path, key), fmt::format("a size such as \"512m\" or \"1g\", got \"{}\"", *out));
  }
}
void readBool(const json::object& o, std::string_view path, std::string_view key, bool& out) {
  if (const auto* v = field(o, key)) out = asBool(*v, member(path, key));
}
void readBool(const json::object& o, std::string_view path, std::string_view key, std::optional<bool>& out) {
  if (const auto* v = field(o, key)) out = asBool(*v, member(path, key));
}
void readPositive(const json::object& o, std::string_view path, std::string_view key, std::optional<std::int64_t>& out) {
  if (const auto* v = field(o, key)) out = asInteger(*v, member(path, key), Sign::positive);
}
void readStringList(const json::object& o, std::string_view path, std::string_view key, std::vector<std::string>& out) {
  if (const auto* v = field(o, key)) out = asStringList(*v, member(path, key));
}
void readStringMap(const json::object& o, std::string_view path, std::string_view key,
                   std::map<std::string, std::string>& out) {
  if (const auto* v = field(o, key)) out = asStringMap(*v, member(path, key));
}

// ---- writing values ----

// JSON text must be UTF-8; program output and C++ strings need not be.
json::string text(std::string_view s) {
  if (detail::isValidUtf8(s)) return json::string(s);
  return json::string(detail::toValidUtf8(s));
}

json::array textList(const std::vector<std::string>& items) {
  json::array array;
  array.reserve(items.size());
  for (const auto& item : items) array.emplace_back(text(item));
  return array;
}

json::object textMap(const std::map<std::string, std::string>& map) {
  json::object object;
  object.reserve(map.size());
  for (const auto& [key, value] : map) object[text(key)] = text(value);
  return object;
}

void putIfSet(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = text(value);
}

}  // namespace

// ---- text ----

json::value parse(std::string_view input, std::string_view what) {
  json::parser parser;
  boost::system::error_code ec;
  parser.write(input.data(), input.size(), ec);  // the whole text: trailing data is an error
  if (ec) fail(what, fmt::format("valid JSON: {}", ec.message()));
  return parser.release();
}

// ---- writing ----

json::object toJson(const ExecutionRequest& r) {
  json::object o;
  o["runtime"] = text(r.runtime);
  putIfSet(o, "code", r.code);
  putIfSet(o, "cmd", r.cmd);
  putIfSet(o, "codeUrl", r.codeUrl);
  putIfSet(o, "codeHash", r.codeHash);
  if (r.allowInsecureCodeUrl) o["allowInsecureCodeUrl"] = true;
  if (r.timeoutMs) o["timeoutMs"] = *r.timeoutMs;
  if (!r.env.empty()) o["env"] = textMap(r.env);
  putIfSet(o, "fileExtension", r.fileExtension);
  if (r.stdinText) o["stdin"] = text(*r.stdinText);
  putIfSet(o, "workdir", r.workdir);
  if (!r.files.empty()) {
    json::object files;
    for (const auto& [path, content] : r.files) {
      if (detail::isValidUtf8(content)) {
        files[text(path)] = json::string(content);
      } else {
        files[text(path)] = json::object{{"base64", detail::base64Encode(content)}};
      }
    }
    o["files"] = std::move(files);
  }
  if (!r.outputPaths.empty()) o["outputPaths"] = textList(r.outputPaths);
  if (!r.installPackages.empty()) o["installPackages"] = textList(r.installPackages);
  putIfSet(o, "setupScript", r.setupScript);
  if (!r.metadata.empty()) o["metadata"] = textMap(r.metadata);
  return o;
}

json::object toJson(const NetworkLogEntry& e) {
  json::object o;
  o["timestamp"] = text(e.timestamp);
  o["method"] = text(e.method);
  o["host"] = text(e.host);
  if (e.path) {
    o["path"] = text(*e.path);
  } else {
    o["path"] = nullptr;
  }
  o["action"] = text(e.action);
  o["durationMs"] = e.durationMs;
  return o;
}

json::object toJson(const SecurityEvent& e) {
  json::object o;
  o["type"] = text(e.type);
  o["message"] = text(e.message);
  o["details"] = textMap(e.details);
  o["timestamp"] = text(e.timestamp);
  return o;
}

json::object toJson(const ExecutionResult& r) {
  json::object o;
  o["stdout"] = text(r.stdoutText);
  o["stderr"] = text(r.stderrText);
  o["exitCode"] = r.exitCode;
  o["durationMs"] = r.durationMs;
  o["truncated"] = r.truncated;
  o["executionId"] = text(r.executionId);
  o["runtime"] = text(r.runtime);
  o["timestamp"] = text(r.timestamp);
  o["containerId"] = text(r.containerId);
  o["timedOut"] = r.timedOut;
  o["oomKilled"] = r.oomKilled;
  if (!r.files.empty()) {
    json::object files;
    for (const auto& [path, content] : r.files) files[text(path)] = detail::base64Encode(content);
    o["files"] = std::move(files);
  }
  if (!r.networkLogs.empty()) {
    json::array logs;
    for (const auto& e : r.networkLogs) logs.emplace_back(toJson(e));
    o["networkLogs"] = std::move(logs);
  }
  if (!r.securityEvents.empty()) {
    json::array events;
    for (const auto& e : r.securityEvents) events.emplace_back(toJson(e));
    o["securityEvents"] = std::move(events);
  }
  o["resourceUsage"] = toJson(r.resourceUsage);
  return o;
}

json::object toJson(const ResourceUsage& u) {
  // cpuPercent and peakMemoryMB as the original names them (its other keys, memoryMB and
  // networkBytesIn/Out, came from `docker stats`, which the per-run path does not call); then
  // the exact figures.
  const auto tenth = [](double v) { return std::round(v * 10) / 10; };
  const double cpuPercent = u.wallMs > 0 ? 100.0 * double(u.cpuUserMs + u.cpuSystemMs) / double(u.wallMs) : 0.0;
  return {{"cpuPercent", tenth(cpuPercent)},
          {"peakMemoryMB", tenth(double(u.peakMemoryBytes) / (1024.0 * 1024.0))},
          {"cpuUserMs", u.cpuUserMs},
          {"cpuSystemMs", u.cpuSystemMs},
          {"peakMemoryBytes", u.peakMemoryBytes},
          {"wallMs", u.wallMs}};
}

json::object toJson(const StreamEvent& e, bool includePhase) {
  json::object o;
  o["type"] = toString(e.type);
  o["data"] = text(e.data);
  if (includePhase) o["phase"] = toString(e.phase);
  return o;
}

json::object resultEventJson(const ExecutionResult& result) {
  return json::object{{"type", "result"}, {"result", toJson(result)}};
}

json::object toJson(const ClientOptions& c) {
  json::object o;
  if (c.network) o["network"] = toString(*c.network);
  if (c.networkFilter) {
    json::object filter{{"whitelist", textList(c.networkFilter->whitelist)},
                        {"blacklist", textList(c.networkFilter->blacklist)}};
    if (!c.networkFilter->allowedAddresses.empty())
      filter["allowedAddresses"] = textList(c.networkFilter->allowedAddresses);
    o["networkFilter"] = std::move(filter);
  }
  if (c.cpuLimit) o["cpuLimit"] = *c.cpuLimit;
  if (c.memoryLimit) o["memoryLimit"] = text(*c.memoryLimit);
  if (c.pidsLimit) o["pidsLimit"] = *c.pidsLimit;
  if (c.readonlyRootFs) o["readonlyRootFs"] = *c.readonlyRootFs;
  if (c.maxOutputSize) o["maxOutputSize"] = *c.maxOutputSize;
  if (c.secrets) o["secrets"] = textMap(*c.secrets);
  if (c.timeoutMs) o["timeoutMs"] = *c.timeoutMs;
  if (c.image) o["image"] = text(*c.image);
  if (c.sandboxSize) o["sandboxSize"] = text(*c.sandboxSize);
  if (c.tmpSize) o["tmpSize"] = text(*c.tmpSize);
  if (c.debug) o["debug"] = *c.debug;
  if (c.persist) o["persist"] = *c.persist;
  if (c.logNetwork) o["logNetwork"] = *c.logNetwork;
  if (c.seccomp || c.customProfilePath) {
    json::object security;
    if (c.seccomp) security["seccomp"] = toString(*c.seccomp);
    if (c.customProfilePath) security["customProfilePath"] = text(*c.customProfilePath);
    o["security"] = std::move(security);
  }
  return o;
}

json::object toJson(const ExecuteBody& body) {
  json::object o;
  o["request"] = toJson(body.request);
  json::object options = toJson(body.options);
  if (!options.empty()) o["options"] = std::move(options);
  if (body.sessionId) o["sessionId"] = text(*body.sessionId);
  if (body.resultEvent) o["resultEvent"] = true;
  return o;
}

// ---- reading ----

ExecutionRequest requestFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  ExecutionRequest r;
  const auto* runtime = field(o, "runtime");
  if (!runtime) fail(member(path, "runtime"), "a string");
  r.runtime = asString(*runtime, member(path, "runtime"));
  readString(o, path, "code", r.code);
  readString(o, path, "cmd", r.cmd);
  readString(o, path, "codeUrl", r.codeUrl);
  readString(o, path, "codeHash", r.codeHash);
  readBool(o, path, "allowInsecureCodeUrl", r.allowInsecureCodeUrl);
  readPositive(o, path, "timeoutMs", r.timeoutMs);
  readStringMap(o, path, "env", r.env);
  readString(o, path, "fileExtension", r.fileExtension);
  readString(o, path, "stdin", r.stdinText);
  readString(o, path, "workdir", r.workdir);
  if (const auto* files = field(o, "files")) {
    const std::string filesPath = member(path, "files");
    if (!files->is_object()) fail(filesPath, "an object");
    for (const auto& kv : files->get_object()) {
      const std::string name = entry(filesPath, kv.key());
      const json::value& content = kv.value();
      std::string bytes;
      if (content.is_string()) {
        bytes = std::string(content.get_string());
      } else if (content.is_object() && content.get_object().contains("base64")) {
        bytes = decodeBase64(content.get_object().at("base64"), member(name, "base64"));
      } else if (content.is_object() && content.get_object().contains("data")) {
        // Node's JSON of a Buffer, {"type":"Buffer","data":[bytes]}: what the original CLI's
        // --files sends (its own server wrote such files wrongly).
        bytes = bufferBytes(content.get_object().at("data"), member(name, "data"));
      } else {
        fail(name, "a string, {\"base64\": string} or {\"type\": \"Buffer\", \"data\": [bytes]}");
      }
      r.files[std::string(kv.key())] = std::move(bytes);
    }
  }
  readStringList(o, path, "outputPaths", r.outputPaths);
  readStringList(o, path, "installPackages", r.installPackages);
  readString(o, path, "setupScript", r.setupScript);
  readStringMap(o, path, "metadata", r.metadata);
  return r;
}

NetworkLogEntry networkLogFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  NetworkLogEntry e;
  readString(o, path, "timestamp", e.timestamp);
  readString(o, path, "method", e.method);
  readString(o, path, "host", e.host);
  readString(o, path, "path", e.path);
  readString(o, path, "action", e.action);
  if (const auto* v = field(o, "durationMs")) e.durationMs = asDurationMs(*v, member(path, "durationMs"));
  return e;
}

SecurityEvent securityEventFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  SecurityEvent e;
  readString(o, path, "type", e.type);
  readString(o, path, "message", e.message);
  if (const auto* details = field(o, "details")) {
    const std::string detailsPath = member(path, "details");
    if (!details->is_object()) fail(detailsPath, "an object");
    // Free-form: a value that is not a string is kept as its JSON text (a port number, ...).
    for (const auto& kv : details->get_object()) {
      e.details[std::string(kv.key())] =
          kv.value().is_string() ? std::string(kv.value().get_string()) : json::serialize(kv.value());
    }
  }
  readString(o, path, "timestamp", e.timestamp);
  return e;
}

ExecutionResult resultFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  ExecutionResult r;
  readString(o, path, "stdout", r.stdoutText);
  readString(o, path, "stderr", r.stderrText);
  if (const auto* v = field(o, "exitCode")) r.exitCode = asInt(*v, member(path, "exitCode"));
  if (const auto* v = field(o, "durationMs")) r.durationMs = asDurationMs(*v, member(path, "durationMs"));
  readBool(o, path, "truncated", r.truncated);
  readString(o, path, "executionId", r.executionId);
  readString(o, path, "runtime", r.runtime);
  readString(o, path, "timestamp", r.timestamp);
  readString(o, path, "containerId", r.containerId);
  readBool(o, path, "timedOut", r.timedOut);
  readBool(o, path, "oomKilled", r.oomKilled);
  if (const auto* files = field(o, "files")) {
    const std::string filesPath = member(path, "files");
    if (!files->is_object()) fail(filesPath, "an object");
    for (const auto& kv : files->get_object())
      r.files[std::string(kv.key())] = decodeBase64(kv.value(), entry(filesPath, kv.key()));
  }
  if (const auto* logs = field(o, "networkLogs")) {
    const std::string logsPath = member(path, "networkLogs");
    if (!logs->is_array()) fail(logsPath, "an array");
    for (std::size_t i = 0; i < logs->get_array().size(); ++i)
      r.networkLogs.push_back(networkLogFromJson(logs->get_array()[i], element(logsPath, i)));
  }
  if (const auto* events = field(o, "securityEvents")) {
    const std::string eventsPath = member(path, "securityEvents");
    if (!events->is_array()) fail(eventsPath, "an array");
    for (std::size_t i = 0; i < events->get_array().size(); ++i)
      r.securityEvents.push_back(securityEventFromJson(events->get_array()[i], element(eventsPath, i)));
  }
  if (const auto* usage = field(o, "resourceUsage")) {
    const std::string usagePath = member(path, "resourceUsage");
    const auto& u = asObject(*usage, usagePath);
    auto read = [&](const char* key, std::int64_t& to) {
      if (const auto* v = field(u, key)) to = asInteger(*v, member(usagePath, key), Sign::nonNegative);
    };
    read("cpuUserMs", r.resourceUsage.cpuUserMs);
    read("cpuSystemMs", r.resourceUsage.cpuSystemMs);
    read("peakMemoryBytes", r.resourceUsage.peakMemoryBytes);
    read("wallMs", r.resourceUsage.wallMs);
  }
  return r;
}

StreamEvent streamEventFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  const std::string typePath = member(path, "type");
  const auto* type = field(o, "type");
  if (!type) fail(typePath, "one of stdout, stderr, exit, error");
  StreamEvent e{asEnum(*type, typePath, &parseEventType, "stdout, stderr, exit, error"), {}, StreamEvent::Phase::code};
  const auto* data = field(o, "data");
  if (!data) fail(member(path, "data"), "a string");
  e.data = asString(*data, member(path, "data"));
  if (const auto* phase = field(o, "phase")) e.phase = asEnum(*phase, member(path, "phase"), &parsePhase, "setup, code");
  return e;
}

std::optional<ExecutionResult> resultOfEvent(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  const auto* type = field(o, "type");
  if (!type || !type->is_string() || type->get_string() != "result") return std::nullopt;
  const auto* result = field(o, "result");
  if (!result) fail(member(path, "result"), "an object");
  return resultFromJson(*result, member(path, "result"));
}

ClientOptions clientOptionsFromJson(const json::value& value, std::string_view path) {
  const auto& o = asObject(value, path);
  ClientOptions c;
  if (const auto* v = field(o, "network"))
    c.network = asEnum(*v, member(path, "network"), &parseNetworkMode, "none, host, filtered");
  if (const auto* v = field(o, "networkFilter")) {
    const std::string filterPath = member(path, "networkFilter");
    const auto& filter = asObject(*v, filterPath);
    NetworkFilter f;
    readStringList(filter, filterPath, "whitelist", f.whitelist);
    readStringList(filter, filterPath, "blacklist", f.blacklist);
    readStringList(filter, filterPath, "allowedAddresses", f.allowedAddresses);
    c.networkFilter = std::move(f);
  }
  if (const auto* v = field(o, "cpuLimit")) {
    c.cpuLimit = asPositiveNumber(*v, member(path, "cpuLimit"));
    if (detail::nanoCpus(*c.cpuLimit) < detail::kMinNanoCpus)
      fail(member(path, "cpuLimit"), fmt::format("at least 0.01 (Docker's minimum), got {}", *c.cpuLimit));
  }
  readSize(o, path, "memoryLimit", c.memoryLimit);
  readPositive(o, path, "pidsLimit", c.pidsLimit);
  readBool(o, path, "readonlyRootFs", c.readonlyRootFs);
  readPositive(o, path, "maxOutputSize", c.maxOutputSize);
  if (const auto* v = field(o, "secrets")) c.secrets = asStringMap(*v, member(path, "secrets"));
  readPositive(o, path, "timeoutMs", c.timeoutMs);
  readString(o, path, "image", c.image);
  readSize(o, path, "sandboxSize", c.sandboxSize);
  readSize(o, path, "tmpSize", c.tmpSize);
  readBool(o, path, "debug", c.debug);
  readBool(o, path, "persist", c.persist);
  readBool(o, path, "logNetwork", c.logNetwork);
  if (const auto* v = field(o, "security")) {
    const std::string securityPath = member(path, "security");
    const auto& security = asObject(*v, securityPath);
    if (const auto* s = field(security, "seccomp"))
      c.seccomp = asEnum(*s, member(securityPath, "seccomp"), &parseSeccompMode, "strict, unconfined, custom");
    readString(security, securityPath, "customProfilePath", c.customProfilePath);
  }
  return c;
}

ExecuteBody executeBodyFromJson(const json::value& value) {
  const auto& o = asObject(value, "body");
  ExecuteBody body;
  const auto* request = field(o, "request");
  if (!request) fail("request", "an object");
  body.request = requestFromJson(*request, "request");
  if (const auto* options = field(o, "options")) body.options = clientOptionsFromJson(*options, "options");
  if (const auto* session = field(o, "sessionId")) {
    std::string id = asString(*session, "sessionId");
    if (!id.empty()) body.sessionId = std::move(id);  // "" means no session, as in the original
  }
  readBool(o, "", "resultEvent", body.resultEvent);
  return body;
}

// ---- options <-> EngineOptions ----

ClientOptions clientOptionsFrom(const EngineOptions& e) {
  const EngineOptions d;
  ClientOptions c;
  if (e.network != d.network) c.network = e.network;
  if (!e.networkFilter.whitelist.empty() || !e.networkFilter.blacklist.empty() ||
      !e.networkFilter.allowedAddresses.empty())
    c.networkFilter = e.networkFilter;
  if (e.cpuLimit != d.cpuLimit) c.cpuLimit = e.cpuLimit;
  if (e.memoryLimit != d.memoryLimit) c.memoryLimit = e.memoryLimit;
  if (e.pidsLimit != d.pidsLimit) c.pidsLimit = e.pidsLimit;
  if (e.maxOutputSize != d.maxOutputSize) c.maxOutputSize = e.maxOutputSize;
  if (!e.secrets.empty()) c.secrets = e.secrets;
  if (e.timeoutMs != d.timeoutMs) c.timeoutMs = e.timeoutMs;
  if (!e.image.empty()) c.image = e.image;
  if (e.sandboxSize != d.sandboxSize) c.sandboxSize = e.sandboxSize;
  if (e.tmpSize != d.tmpSize) c.tmpSize = e.tmpSize;
  if (e.debug != d.debug) c.debug = e.debug;
  if (e.persist != d.persist) c.persist = e.persist;
  if (e.logNetwork != d.logNetwork) c.logNetwork = e.logNetwork;
  if (e.security.seccomp != d.security.seccomp) c.seccomp = e.security.seccomp;
  if (!e.security.customProfilePath.empty()) c.customProfilePath = e.security.customProfilePath;
  return c;
}

void applyClientOptions(const ClientOptions& c, EngineOptions& e) {
  if (c.network) e.network = *c.network;
  if (c.networkFilter) e.networkFilter = *c.networkFilter;
  if (c.cpuLimit) e.cpuLimit = *c.cpuLimit;
  if (c.memoryLimit) e.memoryLimit = *c.memoryLimit;
  if (c.pidsLimit) e.pidsLimit = *c.pidsLimit;
  if (c.maxOutputSize) e.maxOutputSize = *c.maxOutputSize;
  if (c.secrets) e.secrets = *c.secrets;
  if (c.timeoutMs) e.timeoutMs = *c.timeoutMs;
  if (c.image) e.image = *c.image;
  if (c.sandboxSize) e.sandboxSize = *c.sandboxSize;
  if (c.tmpSize) e.tmpSize = *c.tmpSize;
  if (c.debug) e.debug = *c.debug;
  if (c.persist) e.persist = *c.persist;
  if (c.logNetwork) e.logNetwork = *c.logNetwork;
  if (c.seccomp) e.security.seccomp = *c.seccomp;
  if (c.customProfilePath) e.security.customProfilePath = *c.customProfilePath;
}

}  // namespace isol8::wire
