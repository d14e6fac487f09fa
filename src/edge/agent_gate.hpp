// AgentGate: the agent listener's defences against floods (agents.limits,
// docs/configuration.md): TLS handshakes per source address and in total,
// failed registrations per source address, and a refusal log that writes one
// line per source address per interval with a count instead of a line per
// attempt. Sources are addresses, IPv6 ones by their /64 (one host owns a
// whole /64).
//
// Pure (time passed in) except for logging; owned by AgentListener, on its
// executor.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config/edge_config.hpp"
#include "core/asio.hpp"
#include "core/ip_network.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/log_sampler.hpp"
#include "core/logging.hpp"

namespace dialback::edge {

class AgentGate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kLogInterval = std::chrono::seconds(10);

  AgentGate(const AgentLimits& limits, Logger logger);

  // A new connection from `source`: false when it must be closed before
  // its TLS handshake (over the per-source or the total handshake rate).
  bool allow_handshake(const std::string& source, Clock::time_point now);
  // True when `source` used up its failure budget: answer 429, check nothing.
  bool over_failure_budget(const std::string& source, Clock::time_point now);
  int retry_after(const std::string& source, Clock::time_point now);
  // A registration from `source` failed (bad request, credentials, unknown tunnel).
  void failed(const std::string& source, Clock::time_point now);

  // Logs `what` about `peer` (from `source`) at warn level, at most one line
  // per source per kLogInterval; the line counts the refusals it stands for.
  void log_refusal(const std::string& source, std::string_view peer, std::string_view what,
                   Clock::time_point now);

 private:
  KeyedRateLimiter handshakes_per_ip_;
  TokenBucket handshakes_;
  KeyedRateLimiter failures_per_ip_;
  Logger logger_;
  LogSampler refusal_log_{kLogInterval};
};

}  // namespace dialback::edge
