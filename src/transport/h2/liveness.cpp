#include "transport/h2/liveness.hpp"

namespace dialback::h2 {

std::chrono::microseconds Liveness::on_ping_ack(Clock::time_point now) {
  if (!ping_outstanding_) return std::chrono::microseconds{0};
  ping_outstanding_ = false;
  return std::chrono::duration_cast<std::chrono::microseconds>(now - ping_sent_);
}

Liveness::Action Liveness::poll(Clock::time_point now) {
  if (ping_outstanding_) {
    return now - ping_sent_ >= settings_.ping_timeout ? Action::expired : Action::none;
  }
  if (now - last_read_ >= settings_.ping_interval) {
    ping_outstanding_ = true;
    ping_sent_ = now;
    return Action::send_ping;
  }
  return Action::none;
}

Liveness::Clock::time_point Liveness::next_deadline() const {
  return ping_outstanding_ ? ping_sent_ + settings_.ping_timeout
                           : last_read_ + settings_.ping_interval;
}

}  // namespace dialback::h2
