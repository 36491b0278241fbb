// Collects one output stream of a run, capped at maxOutputSize bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

class OutputCollector {
 public:
  explicit OutputCollector(std::int64_t maxBytes);

  // Appends a chunk; returns the part of it that fits under the cap (what a streaming
  // consumer may still be shown; empty once the cap is reached). Never splits a UTF-8
  // sequence at the cut.
  std::string_view append(std::string_view chunk);

  // Bytes the program wrote that were dropped before reaching us (the supervisor forwards
  // only so much): they count in totalBytes and make the output truncated.
  void countDropped(std::int64_t bytes) {
    if (bytes <= 0) return;
    total_ += bytes;
    truncated_ = true;
  }
  bool truncated() const { return truncated_; }
  std::int64_t totalBytes() const { return total_; }  // everything the program wrote
  // The kept bytes, followed when truncated by
  //   "\n\n--- OUTPUT TRUNCATED (<totalBytes> bytes, limit: <maxBytes>) ---"
  std::string finish() const;
  // The marker finish() appends ("" when not truncated): what a stream shows at its end.
  std::string truncationMarker() const;

 private:
  std::int64_t max_;
  std::int64_t total_ = 0;
  bool truncated_ = false;
  std::string kept_;
};

// Replaces every secret value with *** in a stream of chunks, also when a value is split
// across chunks: the end of a chunk that could be the start of a secret is held back until
// the next chunk (or flush) decides. Empty values are ignored; at one position the longest
// secret wins.
class SecretMasker {
 public:
  explicit SecretMasker(std::vector<std::string> secrets);
  bool empty() const { return secrets_.empty(); }
  // The masked text that can be released now.
  std::string feed(std::string_view chunk);
  // The held-back rest, masked; call once at the end.
  std::string flush();

 private:
  std::string scan(bool final);
  std::vector<std::string> secrets_;
  std::string pending_;
};

// Masks a complete text.
std::string maskSecrets(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace isol8::detail
