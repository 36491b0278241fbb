// The supervisor program (apps/isol8-supervisor) travels inside the library and is written
// once to a root-owned host directory, which every container mounts read-only at /opt/isol8:
// so it runs in any image, and nothing in a container can change it.
#pragma once

#include <string>

namespace isol8::detail {

// The host directory holding `supervisor` (content-addressed, written on first use);
// throws Error(io_error) when it cannot be written.
const std::string& supervisorHostDir();

}  // namespace isol8::detail
