// Remote code addresses as the CLI spells them (--github, --gist), and the file name a URL
// ends in (to pick the runtime by extension). The fetch itself happens in the engine
// (ExecutionRequest::codeUrl, EngineOptions::remoteCode).
#pragma once

#include <string>
#include <string_view>

namespace isol8 {

// "owner/repo/ref/path/to/file" → https://raw.githubusercontent.com/owner/repo/ref/path/to/file
// Error(invalid_request): --github format must be owner/repo/ref/path/to/file
std::string githubRawUrl(std::string_view spec);
// "gistId/file.ext" → https://gist.githubusercontent.com/gistId/raw/file.ext
// Error(invalid_request): --gist format must be gistId/file.ext
std::string gistRawUrl(std::string_view spec);
// The last path segment of a URL ("" when there is none).
std::string urlFileName(std::string_view url);

}  // namespace isol8
