// ~/.isol8/credentials.json: the key `isol8 login` obtained, and how the remote commands
// (run --host, session) choose their API key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace isol8::cli {

struct Credentials {
  std::string host;
  std::string token;
  std::string expiresAt;  // ISO 8601
  std::string keyId;
};

std::filesystem::path credentialsPath();  // $HOME/.isol8/credentials.json
// Written with mode 0600 (the token is a password); the folder is created.
void saveCredentials(const Credentials& credentials);
// False when there was no file.
bool removeCredentials();

// --key, else ISOL8_API_KEY, else the stored token when it is for `host` (a trailing '/'
// ignored) and not expired. Prints the [WARN] for expired credentials and the [ERR] when
// there is no key; nullopt then (the command exits 1).
std::optional<std::string> resolveApiKey(const std::string& host, const std::optional<std::string>& keyFlag);

}  // namespace isol8::cli
