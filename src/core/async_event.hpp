// A wake-up signal for coroutines on one executor.
//
// Waiters re-check their condition in a loop:
//     while (!ready()) co_await event.wait();
// notify() wakes every current waiter. All calls happen on the owning
// executor (one io_context thread), so checking the condition and starting
// the wait cannot race with notify(). The event must outlive its waiters.
#pragma once

#include <chrono>
#include <vector>

#include "core/asio.hpp"

namespace dialback {

class AsyncEvent {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AsyncEvent(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  void notify();

  // Returns after notify().
  Task<void> wait();

  // Returns after notify() (true) or at `deadline` (false).
  Task<bool> wait_until(Clock::time_point deadline);

  bool has_waiters() const { return !waiters_.empty(); }

 private:
  asio::any_io_executor executor_;
  std::vector<asio::steady_timer*> waiters_;  // timers living in the waiting coroutine frames
};

}  // namespace dialback
