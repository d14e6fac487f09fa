// Liveness: when to PING and when to give up on a silent peer
// (docs/protocol.md §3). Pure logic; the driver passes the time in.
#pragma once

#include <chrono>

#include "transport/h2/h2_settings.hpp"

namespace dialback::h2 {

class Liveness {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Action { none, send_ping, expired };

  Liveness(const LivenessSettings& settings, Clock::time_point now)
      : settings_(settings), last_read_(now) {}

  void on_read(Clock::time_point now) { last_read_ = now; }
  // Returns the round trip of the outstanding PING.
  std::chrono::microseconds on_ping_ack(Clock::time_point now);

  // What to do at `now`; send_ping marks a PING outstanding.
  Action poll(Clock::time_point now);
  // When poll() should run next.
  Clock::time_point next_deadline() const;

 private:
  LivenessSettings settings_;
  Clock::time_point last_read_;
  Clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;
};

}  // namespace dialback::h2
