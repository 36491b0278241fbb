// Removing what isol8 left on the Docker engine: containers (`isol8 cleanup`, the server's
// POST /cleanup) and, on request, isol8's images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace isol8 {

struct CleanupReport {
  int removed = 0;
  int failed = 0;
  std::vector<std::string> errors;  // "<id12>: <message>" (images: "<tag or id12>: <message>")
};

// A container cleanup would remove.
struct Isol8Container {
  std::string id;     // full id
  std::string image;  // as Docker reports it (the name it was created from)
  std::string state;  // running, exited, created, ...
  std::int64_t created = 0;  // Unix seconds
  std::string engineId;      // label isol8.engine: the engine that created it ("" if none)
  std::string owner;         // label isol8.owner: the engine or server it belongs to ("" if none)
};

// An image cleanup would remove.
struct Isol8Image {
  std::string id;                 // sha256:...
  std::vector<std::string> tags;  // repo tags, may be empty
  std::int64_t created = 0;       // Unix seconds
  bool custom = false;            // labelled org.isol8.runtime (isol8 build / prebuiltImages)
};

// Containers labelled isol8.managed=true (whatever their image), plus containers created from
// an image named isol8:* or isol8-custom:* (the original's containers carry no label), except
// those whose owner (label isol8.owner: an engine or server) is still running on this
// machine: cleanup never pulls a container from under a live run or session.
// `includeLiveOwners`: the live owners' too (isol8-server, to find its own engines' containers).
boost::asio::awaitable<std::vector<Isol8Container>> asyncListIsol8Containers(bool includeLiveOwners = false);
// Images with a repo tag isol8:*, plus images labelled org.isol8.runtime (custom images).
boost::asio::awaitable<std::vector<Isol8Image>> asyncListIsol8Images();

// Force-removes every container asyncListIsol8Containers finds, running or not.
boost::asio::awaitable<CleanupReport> asyncCleanupContainers();
// Force-removes the images asyncListIsol8Images finds. Of an image that also has tags outside
// isol8 only the isol8:* tags are removed, unless it is a custom image (then all go).
// Remove containers first: an image a container still uses stays behind untagged.
boost::asio::awaitable<CleanupReport> asyncCleanupImages();

// Removal of exactly these (as listed before, e.g. shown to a person who confirmed them).
boost::asio::awaitable<CleanupReport> asyncRemoveContainers(std::vector<Isol8Container> containers);
boost::asio::awaitable<CleanupReport> asyncRemoveImages(std::vector<Isol8Image> images);

// Blocking twins, for programs without an io_context. All throw Error(docker_unavailable)
// when no Docker engine answers.
std::vector<Isol8Container> listIsol8Containers(bool includeLiveOwners = false);
std::vector<Isol8Image> listIsol8Images();
CleanupReport cleanupContainers();
CleanupReport cleanupImages();
CleanupReport removeContainers(std::vector<Isol8Container> containers);
CleanupReport removeImages(std::vector<Isol8Image> images);

}  // namespace isol8
