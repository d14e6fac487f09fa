// Watchdog: runs `on_idle` once when `timeout` passes without touch() —
// a deadline for a handshake or a sequence of awaits (never touched), or an
// idle timeout (touched on progress). The callback usually closes a socket,
// which fails the pending operation. touch() only records the time; the timer
// re-arms itself lazily when it wakes before the deadline, so progress on a
// hot path costs no timer operation.
//
// All calls on the executor's thread. `on_idle` runs from the timer handler,
// never from touch(); destroying the watchdog (or disarm()) guarantees it
// will not run afterwards.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/asio.hpp"

namespace dialback {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  Watchdog(asio::any_io_executor executor, Clock::duration timeout,
               std::function<void()> on_idle)
      : state_(std::make_shared<State>(std::move(executor), timeout, std::move(on_idle))) {
    arm(state_);
  }
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void touch() { state_->last_progress = Clock::now(); }
  // Progress now, and `timeout` from here on (a phase with its own limit).
  void touch(Clock::duration timeout) {
    const bool sooner = Clock::now() + timeout < state_->timer.expiry();
    state_->timeout = timeout;
    touch();
    if (sooner && state_->armed) arm(state_);  // re-setting the expiry cancels the old wait
  }
  void disarm() {
    state_->armed = false;
    state_->timer.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    State(asio::any_io_executor executor, Clock::duration idle, std::function<void()> callback)
        : timer(std::move(executor)), timeout(idle), on_idle(std::move(callback)) {}
    asio::steady_timer timer;
    Clock::duration timeout;
    std::function<void()> on_idle;
    Clock::time_point last_progress = Clock::now();
    bool armed = true;
    bool fired = false;
  };

  static void arm(const std::shared_ptr<State>& state) {
    state->timer.expires_at(state->last_progress + state->timeout);
    state->timer.async_wait([state](const error_code& ec) {
      if (ec || !state->armed) return;
      if (Clock::now() < state->last_progress + state->timeout) {
        arm(state);  // progress since the timer was set: wait for the new deadline
        return;
      }
      state->armed = false;
      state->fired = true;
      state->on_idle();
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace dialback
