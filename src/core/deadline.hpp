// Deadline: one re-settable deadline over one lazy timer. Setting or clearing
// it only records the instant while the timer already waits for an earlier
// one; the timer re-arms itself when it wakes early. A connection that sets
// a deadline for every request therefore costs about one timer operation per
// timeout period instead of two per request (a timer that becomes the
// earliest, or stops being it, reprograms the kernel timer).
//
// All calls on the executor's thread. `on_expiry` runs from the timer
// handler, never from a call here; it never runs after destruction.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/asio.hpp"

namespace dialback {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline(asio::any_io_executor executor, std::function<void()> on_expiry);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Sets the deadline; expired() is false until it passes.
  void expire_at(Clock::time_point when);
  void expire_after(Clock::duration duration) { expire_at(Clock::now() + duration); }
  // No deadline until the next expire_at().
  void clear();
  // The last deadline set passed (and `on_expiry` ran).
  bool expired() const;

 private:
  struct State;
  static void arm(const std::shared_ptr<State>& state, Clock::time_point when);

  std::shared_ptr<State> state_;  // shared with the pending timer handler
};

}  // namespace dialback
