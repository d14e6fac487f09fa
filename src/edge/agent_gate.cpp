#include "edge/agent_gate.hpp"

namespace dialback::edge {

AgentGate::AgentGate(const AgentLimits& limits, Logger logger)
    : handshakes_per_ip_(limits.handshakes_per_ip),
      handshakes_(limits.handshakes, Clock::now()),
      failures_per_ip_(limits.failures_per_ip),
      logger_(std::move(logger)) {}

bool AgentGate::allow_handshake(const std::string& source, Clock::time_point now) {
  // Per source first: one noisy source must not use up the total.
  return handshakes_per_ip_.take(source, now) && handshakes_.take(now);
}

bool AgentGate::over_failure_budget(const std::string& source, Clock::time_point now) {
  return failures_per_ip_.exhausted(source, now);
}

int AgentGate::retry_after(const std::string& source, Clock::time_point now) {
  return failures_per_ip_.retry_after(source, now);
}

void AgentGate::failed(const std::string& source, Clock::time_point now) {
  failures_per_ip_.take(source, now);
}

void AgentGate::log_refusal(const std::string& source, std::string_view peer, std::string_view what,
                            Clock::time_point now) {
  const auto left_out = refusal_log_.admit(source, now);
  if (!left_out) return;
  if (*left_out > 0) {
    logger_->warn("agent {}: {} (and {} more refusals from {} not logged)", peer, what, *left_out,
                  source);
  } else {
    logger_->warn("agent {}: {}", peer, what);
  }
}

}  // namespace dialback::edge
