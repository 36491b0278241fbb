// The JSON wire format's readers (json/wire.hpp): what isol8-server reads from clients and
// RemoteIsol8 reads from servers. Every reader gets the same document. Invariants: what a
// reader accepts, the writer writes so that the reader accepts it again (as a value and as
// text) and it writes the same a second time; options read back equal.
#include <boost/json/serialize.hpp>

#include "fuzz_support.hpp"
#include "isol8/error.hpp"
#include "json/wire.hpp"

using namespace isol8;
namespace json = boost::json;

namespace {

// read → write → read → write: the second writing is the first, and the text of the first
// reads too. Returns what was read, if anything.
template <typename Read>
auto roundTrip(const json::value& value, Read read) -> std::optional<decltype(read(value))> {
  decltype(read(value)) first;
  if (!fuzz::completes<Error>([&] { first = read(value); })) return std::nullopt;
  const json::value written = wire::toJson(first);
  const auto second = read(written);  // an Error here escapes: the writer wrote what the reader refuses
  read(wire::parse(json::serialize(written)));
  fuzz::require(json::serialize(wire::toJson(second)) == json::serialize(written));
  return second;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json::value value;
  if (!fuzz::completes<Error>([&] { value = wire::parse(fuzz::text(data, size)); })) return 0;
  roundTrip(value, [](const json::value& v) { return wire::requestFromJson(v); });
  roundTrip(value, [](const json::value& v) { return wire::resultFromJson(v); });
  roundTrip(value, [](const json::value& v) { return wire::streamEventFromJson(v); });
  roundTrip(value, [](const json::value& v) { return wire::networkLogFromJson(v); });
  roundTrip(value, [](const json::value& v) { return wire::securityEventFromJson(v); });
  const auto body = roundTrip(value, [](const json::value& v) { return wire::executeBodyFromJson(v); });
  const auto options = roundTrip(value, [](const json::value& v) { return wire::clientOptionsFromJson(v); });
  // Options compare exactly (a double, optionals that are set but default).
  for (const auto* o : {body ? &body->options : nullptr, options ? &*options : nullptr})
    if (o) fuzz::require(wire::clientOptionsFromJson(wire::toJson(*o)) == *o);
  return 0;
}
