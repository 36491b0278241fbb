// isol8-server: the HTTP/SSE/WebSocket daemon. Not built yet: it arrives with the server issue.
#include <fmt/format.h>

#include "isol8/version.hpp"

int main() {
  fmt::print(stderr, "isol8-server {}: the HTTP server is not implemented yet.\n", isol8::version());
  return 1;
}
