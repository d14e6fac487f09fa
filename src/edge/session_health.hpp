// SessionHealth: the passive health of one agent session as the public side
// sees it (agents.outlier_detection). The registry keeps one per session and
// leaves ejected sessions out of its picks; every stream opened on the
// session reports its outcome here. Shared (a stream may outlive its
// session's registration); used on the edge's executor only.
#pragma once

#include <string>
#include <system_error>

#include "core/logging.hpp"
#include "routing/outlier_detector.hpp"

namespace dialback::edge {

class SessionHealth {
 public:
  SessionHealth(OutlierPolicy policy, std::string tunnel, std::string session_id, Logger logger)
      : policy_(policy),
        tunnel_(std::move(tunnel)),
        session_id_(std::move(session_id)),
        logger_(std::move(logger)) {}

  // The stream got a response head.
  void stream_succeeded() { detector_.record_success(); }
  // The stream could not be opened or ended before its response head.
  // Counts only failures of the tunnel itself (reset, protocol error, the
  // session lost, an I/O error); timeouts, cancellations, refusals by a
  // draining session and answers the edge refused (over the header limit,
  // malformed) do not count.
  void stream_failed(std::error_code reason);
  bool ejected(OutlierDetector::Clock::time_point now) const { return detector_.ejected(now); }

  // Whether `reason` says the tunnel, not the client or the clock, failed.
  static bool is_tunnel_failure(std::error_code reason);

 private:
  OutlierPolicy policy_;
  std::string tunnel_;
  std::string session_id_;
  Logger logger_;
  OutlierDetector detector_;
};

}  // namespace dialback::edge
