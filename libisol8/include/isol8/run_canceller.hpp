// Stops a buffered run from outside, e.g. when the client that asked for it went away: pass
// one to DockerIsol8::asyncExecute and call cancel() from any thread. The run then ends the
// way a cancelled stream does (its processes are killed, its container cleaned for reuse).
#pragma once

#include <functional>
#include <mutex>

namespace isol8 {

class RunCanceller {
 public:
  void cancel() {
    std::function<void()> stop;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;
      cancelled_ = true;
      stop = stop_;
    }
    if (stop) stop();
  }
  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // The engine's side: how to stop the run in flight (empty: none is). Called at once when
  // the run was cancelled before it began.
  void attach(std::function<void()> stop) {
    bool already = false;
    {
      std::lock_guard lock(mutex_);
      stop_ = stop;
      already = cancelled_;
    }
    if (already && stop) stop();
  }

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> stop_;
};

}  // namespace isol8
