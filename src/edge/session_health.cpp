#include "edge/session_health.hpp"

#include "core/error.hpp"

namespace dialback::edge {

bool SessionHealth::is_tunnel_failure(std::error_code reason) {
  if (reason.category() != dialback_category()) return true;  // transport I/O errors
  switch (static_cast<Error>(reason.value())) {
    // Not header_limit or stream_invalid: a local service (and through it
    // a public client) can cause those with what it answers.
    case Error::protocol_error:
    case Error::session_closed:
    case Error::stream_reset:
    case Error::ping_timeout: return true;
    default: return false;
  }
}

void SessionHealth::stream_failed(std::error_code reason) {
  if (!is_tunnel_failure(reason)) return;
  const auto now = OutlierDetector::Clock::now();
  if (!detector_.record_failure(policy_, now)) return;
  if (logger_) {
    logger_->warn(
        "session {} of tunnel {} ejected from balancing: {} tunnel failures in a row (last: {}), "
        "ejection {} in a row",
        session_id_, tunnel_, policy_.consecutive_failures, reason.message(),
        detector_.ejections());
  }
}

}  // namespace dialback::edge
