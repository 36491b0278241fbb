#include "engine/request_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "engine/runtimes.hpp"
#include "isol8/error.hpp"
#include "util/text.hpp"

namespace isol8::detail {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

bool isDigit(char c) { return c >= '0' && c <= '9'; }
// JavaScript's \s on ASCII input (the original's grammar).
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Parses ^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$ (case-insensitive) into floor(number * 1024^unit).
// Exact integer arithmetic, so "1.5g" is exactly 1610612736 and no double rounding creeps in.
// nullopt when the text does not match, the result is 0, or it does not fit in int64.
std::optional<std::int64_t> parseSizeValue(std::string_view text) {
  std::size_t i = 0;
  const std::size_t intBegin = i;
  while (i < text.size() && isDigit(text[i])) ++i;
  const std::string_view intDigits = text.substr(intBegin, i - intBegin);
  if (intDigits.empty()) return std::nullopt;

  std::string_view fracDigits;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fracBegin = ++i;
    while (i < text.size() && isDigit(text[i])) ++i;
    fracDigits = text.substr(fracBegin, i - fracBegin);
    if (fracDigits.empty()) return std::nullopt;  // "1." is not in the grammar
  }

  while (i < text.size() && isSpace(text[i])) ++i;

  int power = 0;
  if (i < text.size()) {
    switch (lower(text[i])) {
      case 'k': power = 1; ++i; break;
      case 'm': power = 2; ++i; break;
      case 'g': power = 3; ++i; break;
      case 't': power = 4; ++i; break;
      default: break;
    }
  }
  if (i < text.size() && lower(text[i]) == 'b') ++i;
  if (i != text.size()) return std::nullopt;

  const std::uint64_t multiplier = std::uint64_t{1} << (10 * power);  // at most 2^40

  // Integer part, refusing anything past int64 instead of wrapping.
  std::uint64_t whole = 0;
  for (char c : intDigits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (whole > (static_cast<std::uint64_t>(kMax) - digit) / 10) return std::nullopt;
    whole = whole * 10 + digit;
  }
  if (whole != 0 && whole > static_cast<std::uint64_t>(kMax) / multiplier) return std::nullopt;
  std::uint64_t bytes = whole * multiplier;

  // Fractional part: floor(0.d1..dn * multiplier) by long multiplication of the digit string,
  // right to left; the carry out of the last (leftmost) digit is exactly the integer part.
  // The carry never exceeds the multiplier, so 9 * 2^40 + carry fits easily in 64 bits.
  std::uint64_t carry = 0;
  for (auto it = fracDigits.rbegin(); it != fracDigits.rend(); ++it) {
    carry = (static_cast<std::uint64_t>(*it - '0') * multiplier + carry) / 10;
  }
  if (carry > static_cast<std::uint64_t>(kMax) - bytes) return std::nullopt;
  bytes += carry;

  if (bytes == 0) return std::nullopt;  // a zero limit is never what anyone meant
  return static_cast<std::int64_t>(bytes);
}

[[noreturn]] void invalid(const std::string& message) { throw Error(errc::invalid_request, message); }

// Normalises an absolute path the way path.posix.resolve does: "." dropped, ".." folded (never
// above "/"), repeated and trailing slashes removed.
std::string normalizeAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

std::int64_t parseMemoryLimit(std::string_view text) { return parseSize(text, "memory limit"); }

std::int64_t parseSize(std::string_view text, std::string_view what) {
  if (auto bytes = parseSizeValue(text)) return *bytes;
  invalid(fmt::format("Invalid {} format: \"{}\". Use e.g. \"512m\", \"1g\".", what, text));
}

std::int64_t nanoCpus(double cpuLimit) {
  const double nanos = std::floor(cpuLimit * 1e9);
  if (!(nanos > 0)) return 0;  // NaN too
  if (nanos >= 9.2e18) return kMax;
  return static_cast<std::int64_t>(nanos);
}

std::string resolveWorkdir(std::string_view workdir, std::string_view root) {
  const std::string base = normalizeAbsolute(root);
  if (workdir.empty()) return base;
  const std::string resolved =
      normalizeAbsolute(workdir.front() == '/' ? std::string(workdir) : base + "/" + std::string(workdir));
  // A plain prefix test would let "/sandboxes" pass for root "/sandbox": require the separator.
  const bool inside = resolved == base || base == "/" || resolved.starts_with(base + "/");
  if (!inside) invalid(fmt::format("Working directory must be inside {}", root));
  return resolved;
}

std::string resolveSandboxPath(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos)
    invalid(fmt::format("File path must be absolute and inside /sandbox or /tmp: \"{}\"", path));
  const std::string resolved = normalizeAbsolute(path);
  if (!resolved.starts_with("/sandbox/") && !resolved.starts_with("/tmp/"))
    invalid(fmt::format("File path must be absolute and inside /sandbox or /tmp: \"{}\"", path));
  return resolved;
}

void validateRequest(const ExecutionRequest& request) {
  // Looked at in place: code may be megabytes, and trim() would copy it.
  auto given = [](std::string_view text) { return std::any_of(text.begin(), text.end(), [](char c) { return !isSpace(c); }); };
  const int sources = int{given(request.code)} + int{given(request.codeUrl)} + int{given(request.cmd)};
  if (sources > 1) {
    invalid(
        "ExecutionRequest.code, ExecutionRequest.codeUrl, and ExecutionRequest.cmd are mutually exclusive — provide "
        "exactly one.");
  }
  if (sources == 0) invalid("ExecutionRequest must include exactly one of: code, codeUrl, or cmd.");

  runtimeByName(request.runtime);  // throws the "Unknown runtime" message

  if (request.timeoutMs && *request.timeoutMs <= 0) {
    invalid(fmt::format("Invalid timeoutMs: {}. It must be greater than 0.", *request.timeoutMs));
  }

  for (const auto& [name, value] : request.env) {
    // The name becomes "NAME=value" in the exec's environment: '=' or NUL would change
    // which variable is set; NUL in the value would silently cut it short.
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      invalid(fmt::format("Invalid environment variable name: \"{}\"", name));
    }
    if (value.find('\0') != std::string::npos) {
      invalid(fmt::format("Invalid value of environment variable \"{}\": it contains a NUL byte", name));
    }
  }

  // The extension is appended to the script's file name ("main" + ext; the engine adds a
  // missing leading dot). A '/' would turn it into a path and NUL would cut it short, so
  // neither can be what the user meant.
  const std::string& ext = request.fileExtension;
  if (ext.find('/') != std::string::npos || ext.find('\0') != std::string::npos) {
    invalid(fmt::format("Invalid fileExtension: \"{}\". Use e.g. \".cjs\".", ext));
  }

  resolveWorkdir(request.workdir);  // throws "Working directory must be inside /sandbox"

  for (const auto& [path, content] : request.files) resolveSandboxPath(path);
  for (const auto& path : request.outputPaths) resolveSandboxPath(path);
  for (const auto& name : request.installPackages) validatePackageName(name);
}

void validateOptions(const EngineOptions& options) {
  parseMemoryLimit(options.memoryLimit);
  parseSize(options.sandboxSize, "sandboxSize");
  parseSize(options.tmpSize, "tmpSize");
  // `!(x > 0)` also catches NaN, which Docker would otherwise receive as garbage.
  if (!(options.cpuLimit > 0) || !std::isfinite(options.cpuLimit)) {
    invalid(fmt::format("Invalid cpuLimit: {}. It must be greater than 0.", options.cpuLimit));
  }
  // Rounded to 0 NanoCpus, a tiny limit would be no limit at all.
  if (nanoCpus(options.cpuLimit) < kMinNanoCpus) {
    invalid(fmt::format("Invalid cpuLimit: {}. It must be at least 0.01 (Docker's minimum).", options.cpuLimit));
  }
  // Docker reads 0 as "no limit": never let that through.
  if (options.pidsLimit <= 0) invalid(fmt::format("Invalid pidsLimit: {}. It must be greater than 0.", options.pidsLimit));
  if (options.maxFileSize <= 0) {
    invalid(fmt::format("Invalid maxFileSize: {}. It must be greater than 0.", options.maxFileSize));
  }
  if (options.maxOutputSize <= 0) {
    invalid(fmt::format("Invalid maxOutputSize: {}. It must be greater than 0.", options.maxOutputSize));
  }
  if (options.timeoutMs <= 0) {
    invalid(fmt::format("Invalid timeoutMs: {}. It must be greater than 0.", options.timeoutMs));
  }
  if (options.maxConcurrent < 1) {
    invalid(fmt::format("Invalid maxConcurrent: {}. It must be at least 1.", options.maxConcurrent));
  }
  if (options.poolSize.clean < 0 || options.poolSize.dirty < 0) {
    invalid(fmt::format("Invalid poolSize: {{clean: {}, dirty: {}}}. Sizes cannot be negative.", options.poolSize.clean,
                        options.poolSize.dirty));
  }
  if (options.maxReuse < 1) invalid(fmt::format("Invalid maxReuse: {}. It must be at least 1.", options.maxReuse));
  for (const auto& [name, value] : options.secrets) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      invalid(fmt::format("Invalid secret name: \"{}\"", name));
    }
  }
  if (options.security.seccomp == SeccompMode::custom && options.security.customProfilePath.empty()) {
    invalid("Seccomp mode \"custom\" needs a profile path (security.customProfilePath).");
  }
}

void validatePackageName(std::string_view name) {
  const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("@_./-=").find(c) != std::string_view::npos;
  });
  if (!ok)
    throw Error(errc::invalid_request,
                fmt::format("Invalid package name: \"{}\". Only alphanumeric, -, _, ., /, @, and = are allowed.", name));
  // "--index-url=..." would be read as an option of pip/npm/bun, not as a package.
  if (name.front() == '-')
    throw Error(errc::invalid_request, fmt::format("Invalid package name: \"{}\". A package name cannot start with \"-\".", name));
}

}  // namespace isol8::detail
