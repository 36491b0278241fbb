// Server-sent events, the client side of POST /execute/stream: bytes in, in whatever pieces
// the network delivers them, the `data` of each complete event out. Lines end with "\n" or
// "\r\n" (also split across pieces); comment lines (":" first, the server's keep-alives) and
// the fields isol8 does not use (event, id, retry) are skipped; several `data` lines of one
// event are joined with "\n", as the EventSource standard says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isol8::detail {

class SseParser {
 public:
  // The data of each event that `bytes` completed (a blank line ends an event).
  std::vector<std::string> feed(std::string_view bytes);
  // At the end of the body: the data of an event the server did not end with a blank line
  // (nothing when there is none). The parser is then empty again.
  std::vector<std::string> finish();

 private:
  void line(std::string_view text, std::vector<std::string>& out);
  void dispatch(std::vector<std::string>& out);

  std::string partialLine_;  // bytes after the last line break seen
  std::string data_;         // the current event's data lines so far
  bool hasData_ = false;
};

}  // namespace isol8::detail
