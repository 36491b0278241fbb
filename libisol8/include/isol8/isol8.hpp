// Umbrella header: everything a host program needs.
#pragma once
#include "isol8/docker_isol8.hpp"
#include "isol8/engine.hpp"
#include "isol8/error.hpp"
#include "isol8/image_builder.hpp"
#include "isol8/options.hpp"
#include "isol8/remote_isol8.hpp"
#include "isol8/types.hpp"
#include "isol8/runtime_registry.hpp"
#include "isol8/version.hpp"
