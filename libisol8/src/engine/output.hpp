// Collects one output stream of a run, capped at maxOutputSize bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace isol8::detail {

class OutputCollector {
 public:
  explicit OutputCollector(std::int64_t maxBytes);

  // Appends a chunk; returns the part of it that fits under the cap (what a streaming
  // consumer may still be shown; empty once the cap is reached). Never splits a UTF-8
  // sequence at the cut.
  std::string_view append(std::string_view chunk);

  bool truncated() const { return truncated_; }
  std::int64_t totalBytes() const { return total_; }  // everything the program wrote
  // The kept bytes, followed when truncated by
  //   "\n\n--- OUTPUT TRUNCATED (<totalBytes> bytes, limit: <maxBytes>) ---"
  std::string finish() const;

 private:
  std::int64_t max_;
  std::int64_t total_ = 0;
  bool truncated_ = false;
  std::string kept_;
};

}  // namespace isol8::detail
