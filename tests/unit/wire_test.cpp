#include "json/wire.hpp"

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "test_support.hpp"

using namespace isol8;
using namespace isol8::wire;
namespace json = boost::json;

namespace {

json::value js(std::string_view text) { return wire::parse(text, "test"); }
std::string str(const json::object& o) { return json::serialize(o); }

constexpr auto invalid = errc::invalid_request;

ExecutionRequest fullRequest() {
  ExecutionRequest r;
  r.runtime = "python";
  r.code = "print(open('/sandbox/in.txt').read())";
  r.codeHash = "ab12";
  r.allowInsecureCodeUrl = true;
  r.timeoutMs = 5000;
  r.env = {{"A", "1"}, {"B", "two words"}};
  r.fileExtension = ".py";
  r.stdinText = "line 1\nline 2\n";
  r.workdir = "/sandbox/work";
  r.files = {{"/sandbox/in.txt", "h\xC3\xA9llo\n"}, {"/sandbox/blob.bin", bytes("\x00\x01\x02\xFF\xFE")}};
  r.outputPaths = {"/sandbox/out.csv", "/tmp/x"};
  r.installPackages = {"numpy", "pandas==2.2.0"};
  r.setupScript = "echo setup";
  r.metadata = {{"userId", "u1"}};
  return r;
}

ExecutionResult fullResult() {
  ExecutionResult r;
  r.stdoutText = "out\n";
  r.stderrText = "err\n";
  r.exitCode = 3;
  r.durationMs = 42;
  r.truncated = true;
  r.executionId = "0b7c5a5e-2f35-4b7e-9a47-0f1c2d3e4f50";
  r.runtime = "node";
  r.timestamp = "2026-03-01T12:00:00.000Z";
  r.containerId = "c0ffee";
  r.timedOut = true;
  r.oomKilled = true;
  r.resourceUsage = {1200, 340, 210 * 1024 * 1024 + 5, 1500};
  r.files = {{"/sandbox/out.bin", bytes("\x00\x01\x02\xFF")}, {"/sandbox/empty", ""}, {"/sandbox/t.txt", "text\n"}};
  r.networkLogs = {
      NetworkLogEntry{"2026-03-01T12:00:00.100Z", "CONNECT", "pypi.org", std::nullopt, "ALLOW", 15},
      NetworkLogEntry{"2026-03-01T12:00:00.200Z", "GET", "evil.example", std::string("/x?y=1"), "BLOCK", 0},
  };
  r.securityEvents = {SecurityEvent{"network_blocked", "Security event: network_blocked",
                                    {{"host", "evil.example"}, {"method", "GET"}, {"reason", "blacklist"}},
                                    "2026-03-01T12:00:00.200Z"}};
  return r;
}

void checkSameRequest(const ExecutionRequest& a, const ExecutionRequest& b) {
  CHECK(a.runtime == b.runtime);
  CHECK(a.code == b.code);
  CHECK(a.cmd == b.cmd);
  CHECK(a.codeUrl == b.codeUrl);
  CHECK(a.codeHash == b.codeHash);
  CHECK(a.allowInsecureCodeUrl == b.allowInsecureCodeUrl);
  CHECK(a.timeoutMs == b.timeoutMs);
  CHECK(a.env == b.env);
  CHECK(a.fileExtension == b.fileExtension);
  CHECK(a.stdinText == b.stdinText);
  CHECK(a.workdir == b.workdir);
  CHECK(a.files == b.files);
  CHECK(a.outputPaths == b.outputPaths);
  CHECK(a.installPackages == b.installPackages);
  CHECK(a.setupScript == b.setupScript);
  CHECK(a.metadata == b.metadata);
}

void checkSameResult(const ExecutionResult& a, const ExecutionResult& b) {
  CHECK(a.stdoutText == b.stdoutText);
  CHECK(a.stderrText == b.stderrText);
  CHECK(a.exitCode == b.exitCode);
  CHECK(a.durationMs == b.durationMs);
  CHECK(a.truncated == b.truncated);
  CHECK(a.executionId == b.executionId);
  CHECK(a.runtime == b.runtime);
  CHECK(a.timestamp == b.timestamp);
  CHECK(a.containerId == b.containerId);
  CHECK(a.timedOut == b.timedOut);
  CHECK(a.oomKilled == b.oomKilled);
  CHECK(a.resourceUsage.cpuUserMs == b.resourceUsage.cpuUserMs);
  CHECK(a.resourceUsage.cpuSystemMs == b.resourceUsage.cpuSystemMs);
  CHECK(a.resourceUsage.peakMemoryBytes == b.resourceUsage.peakMemoryBytes);
  CHECK(a.resourceUsage.wallMs == b.resourceUsage.wallMs);
  CHECK(a.files == b.files);
  REQUIRE(a.networkLogs.size() == b.networkLogs.size());
  for (std::size_t i = 0; i < a.networkLogs.size(); ++i) {
    CHECK(a.networkLogs[i].timestamp == b.networkLogs[i].timestamp);
    CHECK(a.networkLogs[i].method == b.networkLogs[i].method);
    CHECK(a.networkLogs[i].host == b.networkLogs[i].host);
    CHECK(a.networkLogs[i].path == b.networkLogs[i].path);
    CHECK(a.networkLogs[i].action == b.networkLogs[i].action);
    CHECK(a.networkLogs[i].durationMs == b.networkLogs[i].durationMs);
  }
  REQUIRE(a.securityEvents.size() == b.securityEvents.size());
  for (std::size_t i = 0; i < a.securityEvents.size(); ++i) {
    CHECK(a.securityEvents[i].type == b.securityEvents[i].type);
    CHECK(a.securityEvents[i].message == b.securityEvents[i].message);
    CHECK(a.securityEvents[i].details == b.securityEvents[i].details);
    CHECK(a.securityEvents[i].timestamp == b.securityEvents[i].timestamp);
  }
}

}  // namespace

// ---- StreamEvent ----

TEST_CASE("wire: StreamEvent exact JSON text", "[wire]") {
  CHECK(str(toJson(StreamEvent{StreamEvent::Type::stdout_data, "hi \"you\"\n", StreamEvent::Phase::code})) ==
        R"({"type":"stdout","data":"hi \"you\"\n","phase":"code"})");
  CHECK(str(toJson(StreamEvent{StreamEvent::Type::exit, "137", StreamEvent::Phase::setup})) ==
        R"({"type":"exit","data":"137","phase":"setup"})");
  // The server's own error events carry no phase, as in the original.
  CHECK(str(toJson(StreamEvent{StreamEvent::Type::error, "boom", StreamEvent::Phase::code}, false)) ==
        R"({"type":"error","data":"boom"})");
}

TEST_CASE("wire: StreamEvent round trips every type and phase", "[wire]") {
  for (auto type : {StreamEvent::Type::stdout_data, StreamEvent::Type::stderr_data, StreamEvent::Type::exit, StreamEvent::Type::error}) {
    for (auto phase : {StreamEvent::Phase::setup, StreamEvent::Phase::code}) {
      const StreamEvent in{type, bytes("x\0y\n\t\xE2\x82\xAC"), phase};
      const StreamEvent out = streamEventFromJson(js(str(toJson(in))));
      CHECK(out.type == in.type);
      CHECK(out.phase == in.phase);
      CHECK(out.data == in.data);
    }
  }
}

TEST_CASE("wire: StreamEvent phase is optional on parse", "[wire]") {
  const StreamEvent e = streamEventFromJson(js(R"({"type":"error","data":"Invalid JSON message"})"));
  CHECK(e.type == StreamEvent::Type::error);
  CHECK(e.data == "Invalid JSON message");
  CHECK(e.phase == StreamEvent::Phase::code);
  CHECK(streamEventFromJson(js(R"({"type":"stderr","data":"","phase":null,"extra":1})")).phase == StreamEvent::Phase::code);
}

TEST_CASE("wire: StreamEvent errors", "[wire]") {
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js("[]")), invalid, "event must be an object");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"data":"x"})")), invalid,
                      "event.type must be one of stdout, stderr, exit, error");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":"log","data":"x"})")), invalid,
                      "event.type must be one of stdout, stderr, exit, error");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":1,"data":"x"})")), invalid,
                      "event.type must be one of stdout, stderr, exit, error");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":"exit"})")), invalid, "event.data must be a string");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":"exit","data":0})")), invalid, "event.data must be a string");
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":"exit","data":"0","phase":"install"})")), invalid,
                      "event.phase must be one of setup, code");
  // The caller names the value.
  REQUIRE_ISOL8_ERROR(streamEventFromJson(js(R"({"type":"exit","data":5})"), "frame"), invalid, "frame.data must be a string");
}

// ---- ExecutionResult ----

TEST_CASE("wire: ExecutionResult exact JSON text", "[wire]") {
  ExecutionResult r;
  r.stdoutText = "4\n";
  r.durationMs = 12;
  r.executionId = "id-1";
  r.runtime = "python";
  r.timestamp = "2026-03-01T12:00:00.000Z";
  r.containerId = "c1";
  // Empty files, networkLogs and securityEvents are left out.
  CHECK(str(toJson(r)) ==
        R"({"stdout":"4\n","stderr":"","exitCode":0,"durationMs":12,"truncated":false,"executionId":"id-1",)"
        R"("runtime":"python","timestamp":"2026-03-01T12:00:00.000Z","containerId":"c1","timedOut":false,"oomKilled":false,)"
        R"("resourceUsage":{"cpuPercent":0E0,"peakMemoryMB":0E0,"cpuUserMs":0,"cpuSystemMs":0,"peakMemoryBytes":0,"wallMs":0}})");

  r.exitCode = 137;
  r.timedOut = true;
  r.files = {{"/sandbox/out.bin", bytes("\x00\x01\x02\xFF")}};
  r.networkLogs = {NetworkLogEntry{"t", "CONNECT", "pypi.org", std::nullopt, "ALLOW", 7}};
  r.securityEvents = {SecurityEvent{"network_blocked", "m", {{"host", "h"}}, "t"}};
  CHECK(str(toJson(r)) ==
        R"({"stdout":"4\n","stderr":"","exitCode":137,"durationMs":12,"truncated":false,"executionId":"id-1",)"
        R"("runtime":"python","timestamp":"2026-03-01T12:00:00.000Z","containerId":"c1","timedOut":true,"oomKilled":false,)"
        R"("files":{"/sandbox/out.bin":"AAEC/w=="},)"
        R"("networkLogs":[{"timestamp":"t","method":"CONNECT","host":"pypi.org","path":null,"action":"ALLOW","durationMs":7}],)"
        R"("securityEvents":[{"type":"network_blocked","message":"m","details":{"host":"h"},"timestamp":"t"}],)"
        R"("resourceUsage":{"cpuPercent":0E0,"peakMemoryMB":0E0,"cpuUserMs":0,"cpuSystemMs":0,"peakMemoryBytes":0,"wallMs":0}})");
}

TEST_CASE("wire: resourceUsage has the original's cpuPercent and peakMemoryMB and the exact figures", "[wire]") {
  const ResourceUsage usage{1200, 300, 200 * 1024 * 1024 + 512 * 1024, 1000};
  const auto o = toJson(usage);
  CHECK(o.at("cpuPercent").as_double() == 150.0);  // two cores busy for most of the run
  CHECK(o.at("peakMemoryMB").as_double() == 200.5);
  CHECK(o.at("cpuUserMs").as_int64() == 1200);
  CHECK(o.at("cpuSystemMs").as_int64() == 300);
  CHECK(o.at("peakMemoryBytes").as_int64() == 200 * 1024 * 1024 + 512 * 1024);
  CHECK(o.at("wallMs").as_int64() == 1000);
  CHECK(toJson(ResourceUsage{}).at("cpuPercent").as_double() == 0.0);  // no wall time: no division
  // Read back from a result; a negative figure is refused.
  const ExecutionResult r = resultFromJson(js(R"({"resourceUsage":{"cpuUserMs":5,"wallMs":7,"cpuPercent":71.4}})"));
  CHECK(r.resourceUsage.cpuUserMs == 5);
  CHECK(r.resourceUsage.wallMs == 7);
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"resourceUsage":{"peakMemoryBytes":-1}})"), "result"), invalid,
                      "result.resourceUsage.peakMemoryBytes must be a non-negative integer");
}

TEST_CASE("wire: ExecutionResult round trip keeps binary files intact", "[wire]") {
  const ExecutionResult in = fullResult();
  const std::string text = str(toJson(in));
  const ExecutionResult out = resultFromJson(js(text));
  checkSameResult(out, in);
  CHECK(out.files.at("/sandbox/out.bin") == bytes("\x00\x01\x02\xFF"));
  CHECK(out.files.at("/sandbox/empty").empty());
  CHECK(str(toJson(out)) == text);
}

TEST_CASE("wire: ExecutionResult missing fields keep the defaults", "[wire]") {
  const ExecutionResult empty = resultFromJson(js("{}"));
  checkSameResult(empty, ExecutionResult{});

  // A result of the original server: no timedOut/oomKilled, resourceUsage (ignored), nulls.
  const ExecutionResult r = resultFromJson(js(R"({"stdout":"1024","stderr":"","exitCode":0,"durationMs":87.6,
      "truncated":false,"executionId":"e","runtime":"python","timestamp":"t","containerId":"c",
      "files":{},"resourceUsage":{"cpuPercent":1.5,"memoryMB":20},"networkLogs":null})"));
  CHECK(r.stdoutText == "1024");
  CHECK(r.durationMs == 88);  // rounded
  CHECK_FALSE(r.timedOut);
  CHECK_FALSE(r.oomKilled);
  CHECK(r.files.empty());
  CHECK(r.networkLogs.empty());

  const NetworkLogEntry log = networkLogFromJson(js(R"({"method":"GET","host":"h","path":"/p"})"));
  CHECK(log.path == std::optional<std::string>("/p"));
  CHECK(log.durationMs == 0);
  CHECK(log.timestamp.empty());

  // Security event details are free-form: non-string values are kept as their JSON text.
  const SecurityEvent ev = securityEventFromJson(js(R"({"type":"network_blocked","details":{"port":443,"ok":false}})"));
  CHECK(ev.details == std::map<std::string, std::string>{{"ok", "false"}, {"port", "443"}});
}

TEST_CASE("wire: ExecutionResult errors", "[wire]") {
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"("x")")), invalid, "result must be an object");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"stdout":1})")), invalid, "result.stdout must be a string");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"stderr":[]})")), invalid, "result.stderr must be a string");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"exitCode":"1"})")), invalid, "result.exitCode must be an integer");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"exitCode":1.5})")), invalid, "result.exitCode must be an integer");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"exitCode":4294967296})")), invalid, "result.exitCode must be an integer");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"durationMs":-1})")), invalid, "result.durationMs must be a non-negative number");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"durationMs":"5"})")), invalid, "result.durationMs must be a non-negative number");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"truncated":"no"})")), invalid, "result.truncated must be a boolean");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"timedOut":1})")), invalid, "result.timedOut must be a boolean");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"oomKilled":"true"})")), invalid, "result.oomKilled must be a boolean");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"containerId":false})")), invalid, "result.containerId must be a string");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"files":[]})")), invalid, "result.files must be an object");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"files":{"/sandbox/a":5}})")), invalid,
                      R"(result.files["/sandbox/a"] must be a base64 string)");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"files":{"/sandbox/a":"not base64!"}})")), invalid,
                      R"(result.files["/sandbox/a"] must be valid base64)");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"networkLogs":{}})")), invalid, "result.networkLogs must be an array");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"networkLogs":[1]})")), invalid, "result.networkLogs[0] must be an object");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"networkLogs":[{},{"path":3}]})")), invalid,
                      "result.networkLogs[1].path must be a string");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"networkLogs":[{"durationMs":-3}]})")), invalid,
                      "result.networkLogs[0].durationMs must be a non-negative number");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"securityEvents":"x"})")), invalid, "result.securityEvents must be an array");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"securityEvents":[{"details":[]}]})")), invalid,
                      "result.securityEvents[0].details must be an object");
  REQUIRE_ISOL8_ERROR(resultFromJson(js(R"({"securityEvents":[{"type":7}]})")), invalid,
                      "result.securityEvents[0].type must be a string");
}

TEST_CASE("wire: output that is not UTF-8 still gives valid JSON", "[wire]") {
  ExecutionResult r;
  r.stdoutText = "a\xFF" "b\xC3";     // a stray byte and a cut-off two-byte sequence
  r.stderrText = "\xE2\x82\xAC ok";   // the euro sign is fine as it is
  const std::string text = str(toJson(r));
  const ExecutionResult back = resultFromJson(js(text));
  CHECK(back.stdoutText == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  CHECK(back.stderrText == "\xE2\x82\xAC ok");
  const StreamEvent e = streamEventFromJson(js(str(toJson(StreamEvent{StreamEvent::Type::stdout_data, "\xC0\xAF", StreamEvent::Phase::code}))));
  CHECK(e.data == "\xEF\xBF\xBD\xEF\xBF\xBD");  // an overlong '/' is two bad bytes
}

// ---- ExecutionRequest ----

TEST_CASE("wire: ExecutionRequest round trip, files as text or base64", "[wire]") {
  const ExecutionRequest in = fullRequest();
  const json::object o = toJson(in);
  // Text files travel as strings (what the original's clients send), binary ones as base64.
  CHECK(json::serialize(o.at("files")) == R"({"/sandbox/blob.bin":{"base64":"AAEC//4="},"/sandbox/in.txt":"héllo\n"})");
  CHECK(o.at("timeoutMs").as_int64() == 5000);
  CHECK(o.at("allowInsecureCodeUrl").as_bool());
  checkSameRequest(requestFromJson(js(str(o))), in);

  ExecutionRequest cmd;
  cmd.runtime = "bash";
  cmd.cmd = "ls";
  cmd.stdinText = "";  // an empty stdin is still sent
  CHECK(str(toJson(cmd)) == R"({"runtime":"bash","cmd":"ls","stdin":""})");
  checkSameRequest(requestFromJson(js(str(toJson(cmd)))), cmd);

  ExecutionRequest url;
  url.runtime = "node";
  url.codeUrl = "https://example.com/a.js";
  CHECK(str(toJson(url)) == R"({"runtime":"node","codeUrl":"https://example.com/a.js"})");
}

TEST_CASE("wire: ExecutionRequest missing and null fields, unknown fields", "[wire]") {
  const ExecutionRequest r = requestFromJson(js(
      R"j({"runtime":"python","code":"print(1)","timeoutMs":null,"stdin":null,"env":null,"agentFlags":"-x","future":{"a":1}})j"));
  ExecutionRequest expected;
  expected.runtime = "python";
  expected.code = "print(1)";
  checkSameRequest(r, expected);
  CHECK_FALSE(r.timeoutMs.has_value());
  CHECK_FALSE(r.stdinText.has_value());

  // 3e4 and 30000.0 are the same JSON number as 30000.
  CHECK(requestFromJson(js(R"({"runtime":"python","timeoutMs":3e4})")).timeoutMs == 30000);
  CHECK(requestFromJson(js(R"({"runtime":"python","timeoutMs":30000.0})")).timeoutMs == 30000);

  const ExecutionRequest files = requestFromJson(
      js(R"({"runtime":"python","files":{"/sandbox/a.txt":"plain","/sandbox/b.bin":{"base64":"AP8="},"/tmp/e":{"base64":""}}})"));
  CHECK(files.files == std::map<std::string, std::string>{
                           {"/sandbox/a.txt", "plain"}, {"/sandbox/b.bin", bytes("\x00\xFF")}, {"/tmp/e", ""}});
}

TEST_CASE("wire: ExecutionRequest errors name the field", "[wire]") {
  auto req = [](std::string_view text) { return requestFromJson(js(text)); };
  REQUIRE_ISOL8_ERROR(req("null"), invalid, "request must be an object");
  REQUIRE_ISOL8_ERROR(req("[]"), invalid, "request must be an object");
  REQUIRE_ISOL8_ERROR(req(R"({"code":"x"})"), invalid, "request.runtime must be a string");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":5})"), invalid, "request.runtime must be a string");
  for (const char* key : {"code", "cmd", "codeUrl", "codeHash", "fileExtension", "stdin", "workdir", "setupScript"}) {
    INFO(key);
    REQUIRE_ISOL8_ERROR(req(fmt::format(R"({{"runtime":"python","{}":1}})", key)), invalid,
                        fmt::format("request.{} must be a string", key));
  }
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","allowInsecureCodeUrl":"yes"})"), invalid,
                      "request.allowInsecureCodeUrl must be a boolean");
  for (const char* bad : {"0", "-5", "\"1000\"", "1.5", "1e30", "18446744073709551615", "true"}) {
    INFO(bad);
    REQUIRE_ISOL8_ERROR(req(fmt::format(R"({{"runtime":"python","timeoutMs":{}}})", bad)), invalid,
                        "request.timeoutMs must be a positive integer");
  }
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","env":["A=1"]})"), invalid, "request.env must be an object of strings");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","env":{"A":1}})"), invalid, R"(request.env["A"] must be a string)");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","metadata":{"a\"b":null}})"), invalid,
                      R"(request.metadata["a\"b"] must be a string)");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":"x"})"), invalid, "request.files must be an object");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":{"/sandbox/a":5}})"), invalid,
                      R"(request.files["/sandbox/a"] must be a string, {"base64": string} or {"type": "Buffer", "data": [bytes]})");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":{"/sandbox/a":{"b64":"AA=="}}})"), invalid,
                      R"(request.files["/sandbox/a"] must be a string, {"base64": string} or {"type": "Buffer", "data": [bytes]})");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":{"/sandbox/a":{"base64":"AA="}}})"), invalid,
                      R"(request.files["/sandbox/a"].base64 must be valid base64)");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":{"/sandbox/a":{"base64":3}}})"), invalid,
                      R"(request.files["/sandbox/a"].base64 must be a base64 string)");
  // Node's Buffer JSON, as the original CLI sends --files.
  CHECK(req(R"({"runtime":"python","files":{"/sandbox/a":{"type":"Buffer","data":[0,104,255]}}})").files.at("/sandbox/a") ==
        std::string("\0h\xff", 3));
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","files":{"/sandbox/a":{"type":"Buffer","data":[256]}}})"), invalid,
                      R"(request.files["/sandbox/a"].data must be an array of bytes (0-255))");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","outputPaths":"/sandbox/a"})"), invalid,
                      "request.outputPaths must be an array of strings");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","outputPaths":["/sandbox/a",2]})"), invalid,
                      "request.outputPaths[1] must be a string");
  REQUIRE_ISOL8_ERROR(req(R"({"runtime":"python","installPackages":[null]})"), invalid,
                      "request.installPackages[0] must be a string");
}

// ---- options ----

TEST_CASE("wire: options record exactly what the client set", "[wire]") {
  CHECK(clientOptionsFromJson(js("{}")) == ClientOptions{});
  // Server-controlled fields are ignored whatever their type, as are unknown ones.
  CHECK(clientOptionsFromJson(js(R"({"mode":"persistent","poolStrategy":3,"poolSize":"x","audit":{},"remoteCode":{"enabled":true},"zzz":1})")) ==
        ClientOptions{});

  const ClientOptions c = clientOptionsFromJson(js(R"({
      "network":"filtered","networkFilter":{"whitelist":["^pypi\\.org$"],"blacklist":[]},
      "cpuLimit":0.5,"memoryLimit":"256m","pidsLimit":32,"readonlyRootFs":false,"maxOutputSize":1000,
      "secrets":{"TOKEN":"s3cret"},"timeoutMs":10000,"image":"my:img","sandboxSize":"1g","tmpSize":"64m",
      "debug":true,"persist":false,"logNetwork":true,
      "security":{"seccomp":"custom","customProfilePath":"/etc/p.json"}})"));
  CHECK(c.network == NetworkMode::filtered);
  REQUIRE(c.networkFilter);
  CHECK(c.networkFilter->whitelist == std::vector<std::string>{"^pypi\\.org$"});
  CHECK(c.networkFilter->blacklist.empty());
  CHECK(c.cpuLimit == 0.5);
  CHECK(c.memoryLimit == "256m");
  CHECK(c.pidsLimit == 32);
  CHECK(c.readonlyRootFs == false);
  CHECK(c.maxOutputSize == 1000);
  CHECK(c.secrets == std::map<std::string, std::string>{{"TOKEN", "s3cret"}});
  CHECK(c.timeoutMs == 10000);
  CHECK(c.image == "my:img");
  CHECK(c.sandboxSize == "1g");
  CHECK(c.tmpSize == "64m");
  CHECK(c.debug == true);
  CHECK(c.persist == false);  // set, to false: not the same as absent
  CHECK(c.logNetwork == true);
  CHECK(c.seccomp == SeccompMode::custom);
  CHECK(c.customProfilePath == "/etc/p.json");
  CHECK(clientOptionsFromJson(js(str(toJson(c)))) == c);

  const ClientOptions some = clientOptionsFromJson(js(R"({"timeoutMs":500,"security":{"seccomp":"strict"}})"));
  CHECK(str(toJson(some)) == R"({"timeoutMs":500,"security":{"seccomp":"strict"}})");
  CHECK_FALSE(some.network);
  CHECK_FALSE(some.customProfilePath);
}

TEST_CASE("wire: options errors", "[wire]") {
  auto opt = [](std::string_view text) { return clientOptionsFromJson(js(text)); };
  REQUIRE_ISOL8_ERROR(opt("1"), invalid, "options must be an object");
  REQUIRE_ISOL8_ERROR(opt(R"({"network":"bridge"})"), invalid, "options.network must be one of none, host, filtered");
  REQUIRE_ISOL8_ERROR(opt(R"({"network":true})"), invalid, "options.network must be one of none, host, filtered");
  REQUIRE_ISOL8_ERROR(opt(R"({"networkFilter":[]})"), invalid, "options.networkFilter must be an object");
  REQUIRE_ISOL8_ERROR(opt(R"({"networkFilter":{"whitelist":"x"}})"), invalid,
                      "options.networkFilter.whitelist must be an array of strings");
  REQUIRE_ISOL8_ERROR(opt(R"({"networkFilter":{"blacklist":["a",1]}})"), invalid,
                      "options.networkFilter.blacklist[1] must be a string");
  for (const char* bad : {"0", "-1", "\"1\"", "[]"}) {
    INFO(bad);
    REQUIRE_ISOL8_ERROR(opt(fmt::format(R"({{"cpuLimit":{}}})", bad)), invalid, "options.cpuLimit must be a positive number");
  }
  REQUIRE_ISOL8_ERROR(opt(R"({"cpuLimit":1e-10})"), invalid,
                      "options.cpuLimit must be at least 0.01 (Docker's minimum), got 1e-10");
  CHECK(opt(R"({"cpuLimit":0.01})").cpuLimit == 0.01);
  REQUIRE_ISOL8_ERROR(opt(R"({"memoryLimit":512})"), invalid, "options.memoryLimit must be a string");
  REQUIRE_ISOL8_ERROR(opt(R"({"memoryLimit":"abc"})"), invalid,
                      "options.memoryLimit must be a size such as \"512m\" or \"1g\", got \"abc\"");
  REQUIRE_ISOL8_ERROR(opt(R"({"sandboxSize":"0"})"), invalid,
                      "options.sandboxSize must be a size such as \"512m\" or \"1g\", got \"0\"");
  REQUIRE_ISOL8_ERROR(opt(R"({"pidsLimit":0})"), invalid, "options.pidsLimit must be a positive integer");
  REQUIRE_ISOL8_ERROR(opt(R"({"maxOutputSize":-1})"), invalid, "options.maxOutputSize must be a positive integer");
  REQUIRE_ISOL8_ERROR(opt(R"({"timeoutMs":2.5})"), invalid, "options.timeoutMs must be a positive integer");
  REQUIRE_ISOL8_ERROR(opt(R"({"secrets":{"K":1}})"), invalid, R"(options.secrets["K"] must be a string)");
  REQUIRE_ISOL8_ERROR(opt(R"({"image":["a"]})"), invalid, "options.image must be a string");
  REQUIRE_ISOL8_ERROR(opt(R"({"sandboxSize":1})"), invalid, "options.sandboxSize must be a string");
  REQUIRE_ISOL8_ERROR(opt(R"({"tmpSize":1})"), invalid, "options.tmpSize must be a string");
  REQUIRE_ISOL8_ERROR(opt(R"({"readonlyRootFs":"false"})"), invalid, "options.readonlyRootFs must be a boolean");
  REQUIRE_ISOL8_ERROR(opt(R"({"debug":"true"})"), invalid, "options.debug must be a boolean");
  REQUIRE_ISOL8_ERROR(opt(R"({"persist":0})"), invalid, "options.persist must be a boolean");
  REQUIRE_ISOL8_ERROR(opt(R"({"logNetwork":1})"), invalid, "options.logNetwork must be a boolean");
  REQUIRE_ISOL8_ERROR(opt(R"({"security":"strict"})"), invalid, "options.security must be an object");
  REQUIRE_ISOL8_ERROR(opt(R"({"security":{"seccomp":"off"}})"), invalid,
                      "options.security.seccomp must be one of strict, unconfined, custom");
  REQUIRE_ISOL8_ERROR(opt(R"({"security":{"customProfilePath":1}})"), invalid,
                      "options.security.customProfilePath must be a string");
}

TEST_CASE("wire: options from and onto EngineOptions", "[wire]") {
  CHECK(clientOptionsFrom(EngineOptions{}) == ClientOptions{});

  EngineOptions e;
  e.network = NetworkMode::filtered;
  e.networkFilter.whitelist = {"^a$"};
  e.timeoutMs = 1234;
  e.memoryLimit = "1g";
  e.secrets = {{"K", "v"}};
  e.security.seccomp = SeccompMode::unconfined;
  e.poolStrategy = PoolStrategy::secure;  // not client-settable: not sent
  const ClientOptions c = clientOptionsFrom(e);
  CHECK(str(toJson(c)) ==
        R"({"network":"filtered","networkFilter":{"whitelist":["^a$"],"blacklist":[]},"memoryLimit":"1g",)"
        R"("secrets":{"K":"v"},"timeoutMs":1234,"security":{"seccomp":"unconfined"}})");

  EngineOptions target;
  target.cpuLimit = 2.0;
  applyClientOptions(c, target);
  CHECK(target.network == NetworkMode::filtered);
  CHECK(target.networkFilter.whitelist == std::vector<std::string>{"^a$"});
  CHECK(target.timeoutMs == 1234);
  CHECK(target.memoryLimit == "1g");
  CHECK(target.secrets == e.secrets);
  CHECK(target.security.seccomp == SeccompMode::unconfined);
  CHECK(target.cpuLimit == 2.0);  // not set by the client: untouched
  CHECK(target.poolStrategy == PoolStrategy::fast);
}

// ---- execute envelope and text ----

TEST_CASE("wire: execute body", "[wire]") {
  const ExecuteBody b = executeBodyFromJson(js(R"({"type":"execute","request":{"runtime":"bash","cmd":"id"},
      "options":{"network":"none"},"sessionId":"s1"})"));
  CHECK(b.request.runtime == "bash");
  CHECK(b.request.cmd == "id");
  CHECK(b.options.network == NetworkMode::none);
  CHECK(b.sessionId == "s1");
  CHECK(str(toJson(b)) == R"({"request":{"runtime":"bash","cmd":"id"},"options":{"network":"none"},"sessionId":"s1"})");

  const ExecuteBody plain = executeBodyFromJson(js(R"({"request":{"runtime":"python","code":"1"},"sessionId":""})"));
  CHECK_FALSE(plain.sessionId);  // "" is no session, as in the original
  CHECK(plain.options == ClientOptions{});
  CHECK(str(toJson(plain)) == R"({"request":{"runtime":"python","code":"1"}})");

  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js("[1]")), invalid, "body must be an object");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js("{}")), invalid, "request must be an object");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js(R"j({"request":"print(1)"})j")), invalid, "request must be an object");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js(R"({"request":{"runtime":"python","timeoutMs":0}})")), invalid,
                      "request.timeoutMs must be a positive integer");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js(R"({"request":{"runtime":"python"},"options":[]})")), invalid,
                      "options must be an object");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js(R"({"request":{"runtime":"python"},"sessionId":5})")), invalid,
                      "sessionId must be a string");

  CHECK_FALSE(plain.resultEvent);
  const ExecuteBody asking = executeBodyFromJson(js(R"({"request":{"runtime":"python","code":"1"},"resultEvent":true})"));
  CHECK(asking.resultEvent);
  CHECK(str(toJson(asking)) == R"({"request":{"runtime":"python","code":"1"},"resultEvent":true})");
  REQUIRE_ISOL8_ERROR(executeBodyFromJson(js(R"({"request":{"runtime":"python"},"resultEvent":"yes"})")), invalid,
                      "resultEvent must be a boolean");
}

TEST_CASE("wire: the result event carries the ExecutionResult JSON", "[wire]") {
  const ExecutionResult result = fullResult();
  const json::object event = resultEventJson(result);
  CHECK(str(event) == R"({"type":"result","result":)" + str(toJson(result)) + "}");
  const auto back = resultOfEvent(event);
  REQUIRE(back);
  CHECK(str(toJson(*back)) == str(toJson(result)));
  // Any other event is not a result; a result event without one is an error.
  CHECK_FALSE(resultOfEvent(js(R"({"type":"exit","data":"0","phase":"code"})")));
  REQUIRE_ISOL8_ERROR(resultOfEvent(js(R"({"type":"result"})")), invalid, "event.result must be an object");
}

TEST_CASE("wire: parse JSON text", "[wire]") {
  CHECK(wire::parse(R"( {"a":[1,2]} )").at("a").as_array().size() == 2);
  auto startsWith = [](std::string_view what, std::string_view text) {
    try {
      wire::parse(text, what);
    } catch (const Error& e) {
      CHECK(e.code() == make_error_code(errc::invalid_request));
      return e.message();
    }
    return std::string("(no error)");
  };
  CHECK_THAT(startsWith("body", "{"), Catch::StartsWith("body must be valid JSON: "));
  CHECK_THAT(startsWith("body", "{} x"), Catch::StartsWith("body must be valid JSON: "));
  CHECK_THAT(startsWith("body", ""), Catch::StartsWith("body must be valid JSON: "));
  CHECK_THAT(startsWith("body", "{\"a\":1,}"), Catch::StartsWith("body must be valid JSON: "));
  CHECK_THAT(startsWith("message", "\"\xFF\""), Catch::StartsWith("message must be valid JSON: "));
}
