#include "util/pretty_json.hpp"

#include <cmath>
#include <cstdint>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace isol8::detail {

namespace json = boost::json;

namespace {

std::string numberText(double d) {
  // Within ±2^53 every whole double is an exact integer.
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740992.0)
    return fmt::format("{}", static_cast<std::int64_t>(d));
  if (!std::isfinite(d)) return "null";  // as JSON.stringify does
  return fmt::format("{}", d);
}

void write(std::string& out, const json::value& value, int indent) {
  const std::string inner(static_cast<std::size_t>(indent + 2), ' ');
  const std::string outer(static_cast<std::size_t>(indent), ' ');
  switch (value.kind()) {
    case json::kind::object: {
      const auto& object = value.get_object();
      if (object.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& member : object) {
        if (!first) out += ",\n";
        first = false;
        out += inner;
        out += json::serialize(json::string(member.key()));
        out += ": ";
        write(out, member.value(), indent + 2);
      }
      out += "\n" + outer + "}";
      return;
    }
    case json::kind::array: {
      const auto& array = value.get_array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& element : array) {
        if (!first) out += ",\n";
        first = false;
        out += inner;
        write(out, element, indent + 2);
      }
      out += "\n" + outer + "]";
      return;
    }
    case json::kind::double_: out += numberText(value.get_double()); return;
    default: out += json::serialize(value); return;
  }
}

}  // namespace

std::string prettyJson(const json::value& value) {
  std::string out;
  write(out, value, 0);
  return out;
}

}  // namespace isol8::detail
