#include "server/admission.hpp"

namespace isol8::server {

std::optional<Ticket> ConnectionLimiter::admit(const std::string& address) {
  auto& mine = byAddress_[address];
  if (open_ >= total_ || mine >= perAddress_) {
    if (mine == 0) byAddress_.erase(address);
    return std::nullopt;
  }
  ++open_;
  ++mine;
  return Ticket([this, address] {
    --open_;
    if (--byAddress_[address] == 0) byAddress_.erase(address);
  });
}

std::optional<Ticket> ByteBudget::take(std::uint64_t bytes) {
  if (bytes > capacity_ - used_) return std::nullopt;
  used_ += bytes;
  return Ticket([this, bytes] { used_ -= bytes; });
}

}  // namespace isol8::server
