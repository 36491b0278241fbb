#include "remote/sse_parser.hpp"

namespace isol8::detail {

std::vector<std::string> SseParser::feed(std::string_view bytes) {
  std::vector<std::string> out;
  for (;;) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) break;
    partialLine_.append(bytes.substr(0, newline));
    bytes.remove_prefix(newline + 1);
    std::string text = std::move(partialLine_);
    partialLine_.clear();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    line(text, out);
  }
  partialLine_.append(bytes);
  return out;
}

std::vector<std::string> SseParser::finish() {
  std::vector<std::string> out;
  if (!partialLine_.empty()) {
    std::string text = std::move(partialLine_);
    partialLine_.clear();
    if (text.back() == '\r') text.pop_back();
    line(text, out);
  }
  dispatch(out);
  return out;
}

void SseParser::line(std::string_view text, std::vector<std::string>& out) {
  if (text.empty()) {
    dispatch(out);
    return;
  }
  if (text.front() == ':') return;  // comment: a keep-alive
  const auto colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  if (field != "data") return;
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (hasData_) data_ += '\n';
  data_.append(value);
  hasData_ = true;
}

void SseParser::dispatch(std::vector<std::string>& out) {
  if (!hasData_) return;
  out.push_back(std::move(data_));
  data_.clear();
  hasData_ = false;
}

}  // namespace isol8::detail
