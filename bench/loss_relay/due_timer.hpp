// A steady_timer for a queue whose front is due at some time: arm() asks to
// be called back at that time, and re-arms only when the new time is earlier
// than the one already pending, so a busy queue costs one wait per front
// rather than one per item.
#pragma once

#include <cstdint>
#include <utility>

#include <boost/asio/steady_timer.hpp>

#include "relay_options.hpp"

namespace dialback::loss_relay {

namespace asio = boost::asio;

class DueTimer {
 public:
  explicit DueTimer(const asio::any_io_executor& executor) : timer_(executor) {}

  // Calls `handler` (no arguments) at `at`, unless a call at or before `at`
  // is already pending. `handler` must keep the timer's owner alive (hold
  // its shared_ptr): the wait may complete after the owner let go of it.
  template <class Handler>
  void arm(Clock::time_point at, Handler&& handler) {
    if (armed_ && armed_at_ <= at) return;
    armed_ = true;
    armed_at_ = at;
    const auto generation = ++generation_;
    timer_.expires_at(at);  // cancels the later wait, whose handler then sees operation_aborted
    timer_.async_wait([this, generation, handler = std::forward<Handler>(handler)](
                          const boost::system::error_code& ec) mutable {
      if (ec == asio::error::operation_aborted) return;
      // A wait that completed just before a re-arm: the newer one is pending.
      if (generation != generation_) return;
      armed_ = false;
      handler();
    });
  }

  void cancel() {
    armed_ = false;
    ++generation_;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool armed_ = false;
  Clock::time_point armed_at_{};
  std::uint64_t generation_ = 0;
};

}  // namespace dialback::loss_relay
