#include "core/deadline.hpp"

namespace dialback {

struct Deadline::State {
  State(asio::any_io_executor executor, std::function<void()> callback)
      : timer(std::move(executor)), on_expiry(std::move(callback)) {}
  asio::steady_timer timer;
  std::function<void()> on_expiry;  // empty once the Deadline is destroyed
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point timer_at = Clock::time_point::max();  // max: no wait pending
  bool expired = false;
};

Deadline::Deadline(asio::any_io_executor executor, std::function<void()> on_expiry)
    : state_(std::make_shared<State>(std::move(executor), std::move(on_expiry))) {}

Deadline::~Deadline() {
  state_->on_expiry = nullptr;
  state_->timer.cancel();
}

void Deadline::expire_at(Clock::time_point when) {
  state_->deadline = when;
  state_->expired = false;
  if (state_->timer_at > when) arm(state_, when);
}

void Deadline::clear() { state_->deadline = Clock::time_point::max(); }

bool Deadline::expired() const { return state_->expired; }

void Deadline::arm(const std::shared_ptr<State>& state, Clock::time_point when) {
  state->timer_at = when;
  state->timer.expires_at(when);  // a wait still pending completes as aborted
  state->timer.async_wait([state](const error_code& ec) {
    if (ec || !state->on_expiry) return;  // re-armed meanwhile, or destroyed
    state->timer_at = Clock::time_point::max();
    if (state->deadline == Clock::time_point::max()) return;  // cleared: sleep
    if (Clock::now() < state->deadline) {
      arm(state, state->deadline);  // moved later since the timer was set
      return;
    }
    state->deadline = Clock::time_point::max();
    state->expired = true;
    state->on_expiry();
  });
}

}  // namespace dialback
