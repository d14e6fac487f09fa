#include "core/async_event.hpp"

#include <algorithm>

namespace dialback {

void AsyncEvent::notify() {
  for (auto* timer : waiters_) timer->cancel();
}

Task<void> AsyncEvent::wait() { co_await wait_until(Clock::time_point::max()); }

Task<bool> AsyncEvent::wait_until(Clock::time_point deadline) {
  asio::steady_timer timer(executor_, deadline);
  waiters_.push_back(&timer);
  error_code ec;
  co_await timer.async_wait(nothrow(ec));
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &timer));
  co_return ec == asio::error::operation_aborted;
}

}  // namespace dialback
