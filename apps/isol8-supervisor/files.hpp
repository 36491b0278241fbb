// Files in and out of the sandbox, done by a child that is the sandbox user (so it can reach
// nothing the code could not), never following a symlink at the last component, and bounded
// both ways: only the paths asked for come back, each at most maxBytes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/protocol.hpp"

namespace isol8::supervisor {

// Opens the directory holding `path`'s last component one component at a time from "/",
// following no symlink anywhere (O_NOFOLLOW alone guards the last component only); `create`
// makes missing directories. Returns the fd (-1 and errno on failure); `leaf` gets the last
// component.
int openParentDirectory(const std::string& path, bool create, std::string& leaf);

// Empty on success, else what failed.
std::string writeFiles(const FilesRequest& request, std::chrono::steady_clock::time_point deadline);

// Reports per path, in the order asked: a file's content may come in several (`more`) pieces.
void readFiles(const ReadRequest& request, const std::function<void(const FileReport&)>& report,
               std::chrono::steady_clock::time_point deadline);

}  // namespace isol8::supervisor
