// What a server leaves on the Docker engine when it is killed, or when a removal fails during
// an engine outage: containers labelled with its owner name (isol8.owner) that none of its
// live engines holds. A restarted server on the same configuration and port has the same
// owner name, so it finds and removes them at start; the running server sweeps every
// server.sweepIntervalMs and once more at shutdown.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "util/log.hpp"

namespace isol8::server {

// A stable owner name for the server: a hash of its configuration file (or, without one, its
// working directory), bind address and port. Two servers cannot share it while both live
// (the port is theirs alone).
std::string serverOwner(const std::string& configSource, const std::string& bindAddress, int port);

// Removes the containers labelled isol8.owner=<owner> whose isol8.engine is not in
// `liveEngines`; returns how many went. Docker calls are bounded by `timeout`.
boost::asio::awaitable<int> sweepLeftovers(std::string owner, std::vector<std::string> liveEngines,
                                           std::chrono::milliseconds timeout, detail::Logger log);

}  // namespace isol8::server
