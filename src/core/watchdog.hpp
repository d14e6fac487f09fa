// Watchdog: runs `on_expiry` once at a deadline unless disarmed first.
// Used to bound handshakes and other sequences of several awaits: the
// callback usually closes a socket, which fails the pending operation.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/asio.hpp"

namespace dialback {

class Watchdog {
 public:
  Watchdog(asio::any_io_executor executor, std::chrono::steady_clock::duration timeout,
           std::function<void()> on_expiry)
      : state_(std::make_shared<State>(std::move(executor), std::move(on_expiry))) {
    state_->timer.expires_after(timeout);
    state_->timer.async_wait([state = state_](const error_code& ec) {
      if (!ec && state->armed) {
        state->fired = true;
        state->on_expiry();
      }
    });
  }
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void disarm() {
    state_->armed = false;
    state_->timer.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    State(asio::any_io_executor executor, std::function<void()> callback)
        : timer(std::move(executor)), on_expiry(std::move(callback)) {}
    asio::steady_timer timer;
    std::function<void()> on_expiry;
    bool armed = true;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace dialback
