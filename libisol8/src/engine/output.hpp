// Collects one output stream of a run, capped at maxOutputSize bytes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
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
// the next chunk (or flush) decides. Every byte of every occurrence is masked; overlapping or
// adjacent occurrences become one ***. Empty values are ignored. Linear in the output (an
// Aho-Corasick automaton over the secrets): output × secret length must not cost the host CPU.
class SecretMasker {
 public:
  explicit SecretMasker(const std::vector<std::string>& secrets);
  bool empty() const { return nodes_.size() <= 1; }
  // The masked text that can be released now.
  std::string feed(std::string_view chunk);
  // The held-back rest, masked; call once at the end.
  std::string flush();

 private:
  struct Node {
    std::vector<std::pair<unsigned char, std::uint32_t>> next;
    std::uint32_t fail = 0;
    std::uint32_t depth = 0;
    std::uint32_t longest = 0;  // the longest secret ending here (0: none)
  };
  struct Span {  // covered bytes [begin, end), absolute offsets in the stream
    std::uint64_t begin, end;
  };
  std::uint32_t step(std::uint32_t node, unsigned char c) const;
  std::string release(std::uint64_t upTo);

  std::vector<Node> nodes_;
  std::uint32_t state_ = 0;
  std::string pending_;       // bytes not released yet, from offset base_
  std::uint64_t base_ = 0;
  std::vector<Span> covered_;  // merged, in order, within the pending bytes
  bool lastWasMasked_ = false;
};

// Masks a complete text.
std::string maskSecrets(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace isol8::detail
