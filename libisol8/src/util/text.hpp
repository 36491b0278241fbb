// Small text helpers shared by the engine and the apps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

std::string shellQuote(std::string_view s);     // 'it'\''s' form, safe for sh -c
std::string newUuidV4();                        // random, lower-case hex with dashes
std::string randomHex(std::size_t bytes);        // `bytes` CSPRNG bytes as lower-case hex
std::string isoTimestampNow();                  // 2026-11-21T22:35:50.123Z
std::string isoTimestamp(std::int64_t epochMs);  // the same form for a given time
// Parses exactly the form above (JavaScript's toISOString); nullopt for anything else.
std::optional<std::int64_t> parseIsoTimestamp(std::string_view s);
std::string sha256Hex(std::string_view data);   // lower-case hex
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string urlEncode(std::string_view s);      // percent-encodes all but unreserved chars

// Base64, standard alphabet (RFC 4648 section 4) with '=' padding.
std::string base64Encode(std::string_view bytes);
// Strict: standard alphabet only, padded to a multiple of 4, no whitespace or line breaks,
// unused bits of the last group zero (the one canonical spelling). nullopt otherwise.
std::optional<std::string> base64Decode(std::string_view text);

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view s);
// `s` with each ill-formed sequence replaced by U+FFFD, as the WHATWG decoder (and Node's
// Buffer.toString) does: JSON text must be UTF-8, program output need not be.
std::string toValidUtf8(std::string_view s);

}  // namespace isol8::detail
