// JSON for people: 2-space indent like JavaScript's JSON.stringify(value, null, 2).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace isol8::detail {

// Whole doubles print without a fraction (1.0 -> 1), as JavaScript prints them.
std::string prettyJson(const boost::json::value& value);

}  // namespace isol8::detail
