#include "engine/output.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace isol8::detail {
namespace {

// An unfinished UTF-8 sequence at the end of a buffer: `have` bytes present, `missing` to come.
struct Tail {
  std::size_t have = 0;
  std::size_t missing = 0;
};

Tail unfinishedTail(std::string_view s) {
  // A sequence is at most 4 bytes, so its lead byte is within the last 3 if it is unfinished.
  for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: its lead is further back
    const std::size_t length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (length > back) return {back, length - back};
    return {};
  }
  return {};  // complete, or bytes that are not UTF-8 at all: nothing to protect
}

}  // namespace

OutputCollector::OutputCollector(std::int64_t maxBytes) : max_(std::max<std::int64_t>(maxBytes, 0)) {}

std::string_view OutputCollector::append(std::string_view chunk) {
  total_ += static_cast<std::int64_t>(chunk.size());
  if (truncated_) return {};

  const auto limit = static_cast<std::size_t>(max_);
  const std::size_t room = limit - kept_.size();
  if (chunk.size() <= room) {
    kept_.append(chunk);
    // If the character the chunk ends in cannot be completed under the cap, do not show its
    // first bytes to a streaming consumer now: the cut will fall right before it. (They stay
    // in kept_, so a program that simply ends with those bytes loses nothing in finish().)
    const Tail tail = unfinishedTail(kept_);
    if (tail.have > 0 && kept_.size() + tail.missing > limit) {
      return chunk.substr(0, chunk.size() - std::min(tail.have, chunk.size()));
    }
    return chunk;
  }

  // Over the cap: keep what fits, then back off to the start of any character cut in half
  // (which may have begun in an earlier chunk).
  truncated_ = true;
  const std::size_t before = kept_.size();
  kept_.append(chunk.substr(0, room));
  kept_.resize(kept_.size() - unfinishedTail(kept_).have);
  return kept_.size() > before ? chunk.substr(0, kept_.size() - before) : std::string_view{};
}

std::string OutputCollector::finish() const {
  if (!truncated_) return kept_;
  return kept_ + fmt::format("\n\n--- OUTPUT TRUNCATED ({} bytes, limit: {}) ---", total_, max_);
}

std::string OutputCollector::truncationMarker() const {
  if (!truncated_) return {};
  return fmt::format("\n\n--- OUTPUT TRUNCATED ({} bytes, limit: {}) ---", total_, max_);
}

SecretMasker::SecretMasker(const std::vector<std::string>& secrets) : nodes_(1) {
  // The trie of the secrets...
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    std::uint32_t node = 0;
    for (const char ch : secret) {
      const auto c = static_cast<unsigned char>(ch);
      auto& edges = nodes_[node].next;
      auto it = std::find_if(edges.begin(), edges.end(), [c](const auto& e) { return e.first == c; });
      if (it != edges.end()) {
        node = it->second;
        continue;
      }
      const auto child = static_cast<std::uint32_t>(nodes_.size());
      edges.emplace_back(c, child);
      Node fresh;
      fresh.depth = nodes_[node].depth + 1;
      nodes_.push_back(std::move(fresh));
      node = child;
    }
    nodes_[node].longest = nodes_[node].depth;
  }
  // ...then failure links breadth first: a node's fail is the longest proper suffix of its
  // text that is in the trie; `longest` inherits the longest secret ending at that suffix.
  std::vector<std::uint32_t> queue;
  for (const auto& [c, child] : nodes_[0].next) queue.push_back(child);
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const std::uint32_t node = queue[head];
    for (const auto& [c, child] : nodes_[node].next) {
      nodes_[child].fail = node == 0 ? 0 : step(nodes_[node].fail, c);
      if (nodes_[child].longest == 0) nodes_[child].longest = nodes_[nodes_[child].fail].longest;
      queue.push_back(child);
    }
  }
}

std::uint32_t SecretMasker::step(std::uint32_t node, unsigned char c) const {
  for (;;) {
    for (const auto& [edge, child] : nodes_[node].next) {
      if (edge == c) return child;
    }
    if (node == 0) return 0;
    node = nodes_[node].fail;
  }
}

std::string SecretMasker::feed(std::string_view chunk) {
  if (empty()) return std::string(chunk);
  for (const char ch : chunk) {
    pending_ += ch;
    state_ = step(state_, static_cast<unsigned char>(ch));
    if (const std::uint32_t length = nodes_[state_].longest; length > 0) {
      const std::uint64_t end = base_ + pending_.size();
      Span span{end - length, end};
      // Spans arrive by increasing end; a new one may swallow the last ones.
      while (!covered_.empty() && span.begin <= covered_.back().end) {
        span.begin = std::min(span.begin, covered_.back().begin);
        covered_.pop_back();
      }
      covered_.push_back(span);
    }
  }
  // The last `depth` bytes may still become part of a secret; everything before is decided.
  return release(base_ + pending_.size() - nodes_[state_].depth);
}

std::string SecretMasker::flush() {
  if (empty()) return {};
  std::string out = release(base_ + pending_.size());
  state_ = 0;
  return out;
}

std::string SecretMasker::release(std::uint64_t upTo) {
  std::string out;
  std::size_t spanIndex = 0;
  for (std::uint64_t offset = base_; offset < upTo; ++offset) {
    while (spanIndex < covered_.size() && covered_[spanIndex].end <= offset) ++spanIndex;
    const bool masked = spanIndex < covered_.size() && covered_[spanIndex].begin <= offset;
    if (!masked) {
      out += pending_[offset - base_];
    } else if (!lastWasMasked_) {
      out += "***";
    }
    lastWasMasked_ = masked;
  }
  covered_.erase(covered_.begin(), covered_.begin() + static_cast<std::ptrdiff_t>(spanIndex));
  pending_.erase(0, upTo - base_);
  base_ = upTo;
  return out;
}

std::string maskSecrets(std::string_view text, const std::vector<std::string>& secrets) {
  SecretMasker masker(secrets);
  if (masker.empty()) return std::string(text);
  std::string out = masker.feed(text);  // before flush(): the order of + operands is unspecified
  return out + masker.flush();
}

}  // namespace isol8::detail
