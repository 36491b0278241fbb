#include "engine/request_validation.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "test_support.hpp"

using isol8::errc;
using isol8::EngineOptions;
using isol8::ExecutionRequest;
using namespace isol8::detail;

namespace {
std::string badMemory(const std::string& v) {
  return "Invalid memory limit format: \"" + v + "\". Use e.g. \"512m\", \"1g\".";
}
constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB, TiB = 1024 * GiB;
}  // namespace

// ---- parseMemoryLimit / parseSize -------------------------------------------------------

TEST_CASE("parseMemoryLimit: the original's examples", "[validation][memory]") {
  CHECK(parseMemoryLimit("512m") == 512 * MiB);
  CHECK(parseMemoryLimit("1g") == GiB);
  CHECK(parseMemoryLimit("256k") == 256 * KiB);
  CHECK(parseMemoryLimit("1024") == 1024);
  CHECK(parseMemoryLimit("512mb") == 512 * MiB);
}

TEST_CASE("parseMemoryLimit: case, spaces, b suffix, terabytes", "[validation][memory]") {
  CHECK(parseMemoryLimit("1G") == GiB);
  CHECK(parseMemoryLimit("512MB") == 512 * MiB);
  CHECK(parseMemoryLimit("512mB") == 512 * MiB);
  CHECK(parseMemoryLimit("512 m") == 512 * MiB);
  CHECK(parseMemoryLimit("512\t m") == 512 * MiB);
  CHECK(parseMemoryLimit("2t") == 2 * TiB);
  CHECK(parseMemoryLimit("100b") == 100);
  CHECK(parseMemoryLimit("100 B") == 100);
  CHECK(parseMemoryLimit("0512m") == 512 * MiB);
}

TEST_CASE("parseMemoryLimit: fractions are exact, then floored", "[validation][memory]") {
  CHECK(parseMemoryLimit("1.5g") == 1610612736);
  CHECK(parseMemoryLimit("0.5k") == 512);
  CHECK(parseMemoryLimit("0.1k") == 102);                // 102.4
  CHECK(parseMemoryLimit("1.0009765625k") == 1025);      // exactly 1025, no rounding down to 1024
  CHECK(parseMemoryLimit("0.9990234375k") == 1023);      // exactly 1023
  CHECK(parseMemoryLimit("0.99999999999999999999k") == 1023);  // just below 1024
  CHECK(parseMemoryLimit("1.9") == 1);                   // bytes: floored
  // 2^-40 t is exactly one byte; needs all 40 fraction digits.
  CHECK(parseMemoryLimit("0.0000000000009094947017729282379150390625t") == 1);
}

TEST_CASE("parseMemoryLimit: largest values and overflow", "[validation][memory]") {
  CHECK(parseMemoryLimit("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
  CHECK(parseMemoryLimit("8388607t") == 8388607 * TiB);
  REQUIRE_ISOL8_ERROR(parseMemoryLimit("9223372036854775808"), errc::invalid_request,
                      badMemory("9223372036854775808"));
  REQUIRE_ISOL8_ERROR(parseMemoryLimit("8388608t"), errc::invalid_request, badMemory("8388608t"));  // 2^63
  // 2^63 - 2^40 + floor(2^40 * 0.999999999999999) = exactly the int64 maximum.
  CHECK(parseMemoryLimit("8388607.999999999999999t") == std::numeric_limits<std::int64_t>::max());
  REQUIRE_ISOL8_ERROR(parseMemoryLimit("99999999999999999999999999g"), errc::invalid_request,
                      badMemory("99999999999999999999999999g"));
}

TEST_CASE("parseMemoryLimit: rejects what the grammar does not match", "[validation][memory]") {
  for (const char* v : {"", "abc", "512x", "-1m", "+1m", "1.m", ".5m", " 512m", "512m ", "512mm", "512bb", "1e3",
                        "1,5g", "512 mb b", "m", "1 2m", "0x10", "１m"}) {
    INFO("value: " << v);
    REQUIRE_ISOL8_ERROR(parseMemoryLimit(v), errc::invalid_request, badMemory(v));
  }
}

TEST_CASE("parseMemoryLimit: rejects zero", "[validation][memory]") {
  for (const char* v : {"0", "0m", "0.0g", "0.0001", "0.0000001k"}) {
    INFO("value: " << v);
    REQUIRE_ISOL8_ERROR(parseMemoryLimit(v), errc::invalid_request, badMemory(v));
  }
}

TEST_CASE("parseSize names the option in its message", "[validation][memory]") {
  CHECK(parseSize("64m", "sandboxSize") == 64 * MiB);
  REQUIRE_ISOL8_ERROR(parseSize("big", "sandboxSize"), errc::invalid_request,
                      "Invalid sandboxSize format: \"big\". Use e.g. \"512m\", \"1g\".");
}

// ---- resolveWorkdir ---------------------------------------------------------------------

TEST_CASE("resolveWorkdir: paths inside the sandbox", "[validation][workdir]") {
  CHECK(resolveWorkdir("subdir") == "/sandbox/subdir");
  CHECK(resolveWorkdir("a/b/c") == "/sandbox/a/b/c");
  CHECK(resolveWorkdir("/sandbox/project") == "/sandbox/project");
  CHECK(resolveWorkdir(".") == "/sandbox");
  CHECK(resolveWorkdir("/sandbox") == "/sandbox");
  CHECK(resolveWorkdir("") == "/sandbox");
  CHECK(resolveWorkdir("/sandbox/a/../b") == "/sandbox/b");
  CHECK(resolveWorkdir("a//b/./c/") == "/sandbox/a/b/c");
  CHECK(resolveWorkdir("subdir/..") == "/sandbox");
  CHECK(resolveWorkdir("/sandbox/") == "/sandbox");
  CHECK(resolveWorkdir("//sandbox//x") == "/sandbox/x");
  // Leaving and coming back resolves inside, as path.posix.resolve does.
  CHECK(resolveWorkdir("../sandbox/x") == "/sandbox/x");
  CHECK(resolveWorkdir("..foo") == "/sandbox/..foo");  // a name, not a parent reference
}

TEST_CASE("resolveWorkdir: escapes are rejected", "[validation][workdir]") {
  for (const char* w : {"../../etc", "/etc/passwd", "/", "..", "/sandboxes", "/sandbox/../sandbox2", "/sandbox/..",
                        "../sandboxes", "/tmp", "a/../../.."}) {
    INFO("workdir: " << w);
    REQUIRE_ISOL8_ERROR(resolveWorkdir(w), errc::invalid_request, "Working directory must be inside /sandbox");
  }
}

TEST_CASE("resolveWorkdir: custom root", "[validation][workdir]") {
  CHECK(resolveWorkdir("src", "/workspace") == "/workspace/src");
  CHECK(resolveWorkdir("/workspace/a/../b", "/workspace") == "/workspace/b");
  CHECK(resolveWorkdir("", "/workspace") == "/workspace");
  REQUIRE_ISOL8_ERROR(resolveWorkdir("../etc", "/workspace"), errc::invalid_request,
                      "Working directory must be inside /workspace");
  REQUIRE_ISOL8_ERROR(resolveWorkdir("/sandbox", "/workspace"), errc::invalid_request,
                      "Working directory must be inside /workspace");
}

// ---- validateRequest --------------------------------------------------------------------

namespace {
ExecutionRequest request(std::string code, std::string cmd = {}) {
  ExecutionRequest r;
  r.runtime = "python";
  r.code = std::move(code);
  r.cmd = std::move(cmd);
  return r;
}
const char* kExclusive =
    "ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive — provide "
    "exactly one.";
const char* kNone = "ExecutionRequest must include exactly one of: code, codeUrl, or cmd.";
}  // namespace

TEST_CASE("validateRequest: exactly one of code and cmd", "[validation][request]") {
  CHECK_NOTHROW(validateRequest(request("print(1)")));
  CHECK_NOTHROW(validateRequest(request("", "ls -la")));
  REQUIRE_ISOL8_ERROR(validateRequest(request("print(1)", "ls")), errc::invalid_request, kExclusive);
  REQUIRE_ISOL8_ERROR(validateRequest(request("", "")), errc::invalid_request, kNone);
  // Whitespace-only counts as absent.
  REQUIRE_ISOL8_ERROR(validateRequest(request("", "   \n\t")), errc::invalid_request, kNone);
  REQUIRE_ISOL8_ERROR(validateRequest(request(" \n", "")), errc::invalid_request, kNone);
  CHECK_NOTHROW(validateRequest(request("  ", "echo hi")));
  CHECK_NOTHROW(validateRequest(request("print(1)", "\t")));
}

TEST_CASE("validateRequest: runtime must exist", "[validation][request]") {
  ExecutionRequest r = request("puts 1");
  r.runtime = "ruby";
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request,
                      "Unknown runtime: \"ruby\". Available: python, node, bun, bash, deno");
  for (const char* name : {"python", "node", "bun", "bash", "deno"}) {
    r.runtime = name;
    CHECK_NOTHROW(validateRequest(r));
  }
}

TEST_CASE("validateRequest: timeoutMs must be positive", "[validation][request]") {
  ExecutionRequest r = request("1");
  r.timeoutMs = 1;
  CHECK_NOTHROW(validateRequest(r));
  r.timeoutMs = 0;
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, "Invalid timeoutMs: 0. It must be greater than 0.");
  r.timeoutMs = -5;
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, "Invalid timeoutMs: -5. It must be greater than 0.");
}

TEST_CASE("validateRequest: environment names and values", "[validation][request]") {
  ExecutionRequest r = request("1");
  r.env = {{"FOO", "bar=baz"}, {"lower_case", ""}, {"WITH SPACE", "x"}};
  CHECK_NOTHROW(validateRequest(r));

  r.env = {{"", "x"}};
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, "Invalid environment variable name: \"\"");
  r.env = {{"A=B", "x"}};
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, "Invalid environment variable name: \"A=B\"");
  r.env = {{bytes("A\0B"), "x"}};
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request,
                      "Invalid environment variable name: \"" + bytes("A\0B") + "\"");
  r.env = {{"A", bytes("x\0y")}};
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request,
                      "Invalid value of environment variable \"A\": it contains a NUL byte");
}

TEST_CASE("validateRequest: fileExtension must not be a path", "[validation][request]") {
  ExecutionRequest r = request("1");
  // Anything a file name can end in is fine; the engine adds a missing leading dot.
  for (const char* ok : {".cjs", ".py", ".test.ts", ".my_ext-2", "cjs", ".", ".py~"}) {
    r.fileExtension = ok;
    CHECK_NOTHROW(validateRequest(r));
  }
  for (const std::string& bad : {std::string("./../../etc/x"), std::string(".a/b"), std::string("/"), bytes(".s\0h")}) {
    INFO("extension: " << bad);
    r.fileExtension = bad;
    REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request,
                        "Invalid fileExtension: \"" + bad + "\". Use e.g. \".cjs\".");
  }
}

TEST_CASE("validateRequest: workdir must stay inside /sandbox", "[validation][request]") {
  ExecutionRequest r = request("1");
  r.workdir = "project/src";
  CHECK_NOTHROW(validateRequest(r));
  r.workdir = "../../etc";
  REQUIRE_ISOL8_ERROR(validateRequest(r), errc::invalid_request, "Working directory must be inside /sandbox");
}

// ---- validateOptions --------------------------------------------------------------------

TEST_CASE("validateOptions: defaults and host network are fine", "[validation][options]") {
  EngineOptions o;
  CHECK_NOTHROW(validateOptions(o));
  o.network = isol8::NetworkMode::host;
  o.pidsLimit = 1;
  o.cpuLimit = 0.25;
  CHECK_NOTHROW(validateOptions(o));
}

TEST_CASE("validateOptions: sizes", "[validation][options]") {
  EngineOptions o;
  o.memoryLimit = "lots";
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, badMemory("lots"));
  o = {};
  o.sandboxSize = "0";
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request,
                      "Invalid sandboxSize format: \"0\". Use e.g. \"512m\", \"1g\".");
  o = {};
  o.tmpSize = "1q";
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request,
                      "Invalid tmpSize format: \"1q\". Use e.g. \"512m\", \"1g\".");
}

TEST_CASE("validateOptions: numeric limits", "[validation][options]") {
  EngineOptions o;
  o.cpuLimit = 0;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid cpuLimit: 0. It must be greater than 0.");
  o.cpuLimit = -1.5;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid cpuLimit: -1.5. It must be greater than 0.");
  o.cpuLimit = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid cpuLimit: nan. It must be greater than 0.");
  o.cpuLimit = std::numeric_limits<double>::infinity();
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid cpuLimit: inf. It must be greater than 0.");
  // Docker's NanoCpus would round these to 0 (no limit) or below its minimum of 0.01 CPU.
  o.cpuLimit = 1e-10;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request,
                      "Invalid cpuLimit: 1e-10. It must be at least 0.01 (Docker's minimum).");
  o.cpuLimit = 0.0099;
  CHECK_THROWS(validateOptions(o));
  o.cpuLimit = 0.01;
  CHECK_NOTHROW(validateOptions(o));
  CHECK(isol8::detail::nanoCpus(0.01) == isol8::detail::kMinNanoCpus);
  CHECK(isol8::detail::nanoCpus(1e300) == std::numeric_limits<std::int64_t>::max());

  o = {};
  o.pidsLimit = -1;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid pidsLimit: -1. It must be greater than 0.");
  o.pidsLimit = 0;  // Docker would read 0 as "unlimited"
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid pidsLimit: 0. It must be greater than 0.");
  o = {};
  o.maxOutputSize = 0;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request,
                      "Invalid maxOutputSize: 0. It must be greater than 0.");
  o = {};
  o.timeoutMs = 0;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request, "Invalid timeoutMs: 0. It must be greater than 0.");
}

TEST_CASE("validateOptions: custom seccomp needs a profile path", "[validation][options]") {
  EngineOptions o;
  o.security.seccomp = isol8::SeccompMode::custom;
  REQUIRE_ISOL8_ERROR(validateOptions(o), errc::invalid_request,
                      "Seccomp mode \"custom\" needs a profile path (security.customProfilePath).");
  o.security.customProfilePath = "/etc/isol8/profile.json";
  CHECK_NOTHROW(validateOptions(o));
}
