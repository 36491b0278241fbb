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

SecretMasker::SecretMasker(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (!s.empty()) secrets_.push_back(std::move(s));
  }
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string SecretMasker::feed(std::string_view chunk) {
  if (secrets_.empty()) return std::string(chunk);
  pending_.append(chunk);
  return scan(false);
}

std::string SecretMasker::flush() { return scan(true); }

std::string SecretMasker::scan(bool final) {
  std::string out;
  const std::string_view text = pending_;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    bool matched = false, couldStart = false;
    for (const auto& secret : secrets_) {
      if (rest.starts_with(secret)) {
        out += "***";
        i += secret.size();
        matched = true;
        break;
      }
      if (!final && rest.size() < secret.size() && std::string_view(secret).starts_with(rest)) couldStart = true;
    }
    if (matched) continue;
    if (couldStart) break;  // wait for more text before deciding
    out += text[i++];
  }
  pending_.erase(0, i);
  return out;
}

std::string maskSecrets(std::string_view text, const std::vector<std::string>& secrets) {
  SecretMasker masker(secrets);
  if (masker.empty()) return std::string(text);
  return masker.feed(text) + masker.flush();
}

}  // namespace isol8::detail
