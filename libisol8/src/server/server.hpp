// isol8-server: what apps/isol8-server/main.cpp runs once its flags are read.
#pragma once

#include <optional>
#include <string>

#include "isol8/config.hpp"

namespace isol8::server {

struct ServerOptions {
  int port = 3000;
  std::string bindAddress = "127.0.0.1";
  std::string masterKey;
  std::optional<std::string> authDb;  // --auth-db; else config auth.enabled decides
  Config config;
  bool debug = false;  // [DEBUG] lines on stderr
};

// Builds missing prebuilt images, opens the key database, listens, prints the banner
// ("[INFO] isol8 server v<V> listening on http://localhost:<port>") and serves until SIGINT or
// SIGTERM; then removes its containers (never images) and exits 0. Startup failures print
// "[ERR] <message>" and return 1.
int runServer(ServerOptions options);

}  // namespace isol8::server
