#include "isol8/code_url.hpp"

#include "network/remote_code_rules.hpp"
#include "network/url.hpp"

namespace isol8 {

std::string githubRawUrl(std::string_view spec) { return detail::githubRawUrl(spec); }
std::string gistRawUrl(std::string_view spec) { return detail::gistRawUrl(spec); }
std::string urlFileName(std::string_view url) { return detail::urlFileName(url); }

}  // namespace isol8
