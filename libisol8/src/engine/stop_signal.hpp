// Stops a run from outside (a streaming consumer that went away, engine shutdown). Lives on
// the engine's executor: every member must be called there.
#pragma once

#include <algorithm>
#include <vector>

#include <boost/asio/steady_timer.hpp>

namespace isol8::detail {

class StopSignal {
 public:
  void trigger() {
    triggered_ = true;
    for (auto* timer : watching_) timer->cancel();
  }
  bool triggered() const { return triggered_; }

  // While a Watch lives, trigger() cancels its timer (the waiter then looks at triggered()).
  class Watch {
   public:
    Watch(StopSignal* signal, boost::asio::steady_timer* timer) : signal_(signal), timer_(timer) {
      if (signal_) signal_->watching_.push_back(timer_);
    }
    ~Watch() {
      if (signal_) std::erase(signal_->watching_, timer_);
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    StopSignal* signal_;
    boost::asio::steady_timer* timer_;
  };

 private:
  bool triggered_ = false;
  std::vector<boost::asio::steady_timer*> watching_;
};

}  // namespace isol8::detail
