// OutlierDetector: passive health of one session (docs/configuration.md,
// agents.outlier_detection). A session whose streams fail at the tunnel
// level `consecutive_failures` times in a row is ejected: the balancer
// leaves it out for an ejection time that starts at `base_ejection` and
// doubles with every ejection in a row, up to `max_ejection`. A stream that
// gets its response head ends the run: the failure count and the doubling
// start again. The local service's own 5xx answers are responses, so they
// never count. Pure state, one per session, on the session's executor.
#pragma once

#include <chrono>
#include <cstdint>

#include "config/outlier_policy.hpp"

namespace dialback {

class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;

  // A stream got its response head.
  void record_success();
  // A stream failed at the tunnel level. Returns true when this failure
  // ejected the session.
  bool record_failure(const OutlierPolicy& policy, Clock::time_point now);
  // Whether the balancer should leave the session out at `now`.
  bool ejected(Clock::time_point now) const { return now < ejected_until_; }
  // Ejections in a row so far (0 after a success).
  std::uint32_t ejections() const { return ejections_; }

 private:
  std::uint32_t failures_ = 0;   // consecutive, since the last success or ejection
  std::uint32_t ejections_ = 0;  // in a row, since the last success
  Clock::time_point ejected_until_{};
};

}  // namespace dialback
