// parseSize (engine/request_validation.hpp): memory, sandbox and tmp sizes from clients and
// the config file. Invariants: a parsed size is positive, reads back from its byte count, and
// the grammar is case-insensitive.
#include <cctype>

#include "engine/request_validation.hpp"
#include "fuzz_support.hpp"
#include "isol8/error.hpp"

using namespace isol8;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::text(data, size);
  std::int64_t bytes = 0;
  if (!fuzz::completes<Error>([&] { bytes = detail::parseSize(input, "size"); })) return 0;
  fuzz::require(bytes > 0);
  fuzz::require(detail::parseSize(std::to_string(bytes), "size") == bytes);
  std::string upper(input);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  fuzz::require(detail::parseSize(upper, "size") == bytes);
  return 0;
}
