// AutoTransportDialer: `transport: auto`. Dials QUIC (`h3`) first; when no
// QUIC handshake completes within quic.fallback_after (UDP blocked or
// dropped on the way), dials `h2` over TCP instead, and while that session
// runs probes QUIC every quic.probe_interval. Once a probe's handshake
// completes, the h2 session announces it drains (the slot opens a
// replacement, which is QUIC again) and is drained. A refusal over QUIC is
// the edge's answer, not a blocked network: it is returned as is.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "config/agent_config.hpp"
#include "transport/quic/h3_dialer.hpp"
#include "transport/session_dialer.hpp"

namespace dialback::agent {

class AutoTransportDialer final : public SessionDialer {
 public:
  // `quic` dials with the handshake timeout of fallback_after.
  AutoTransportDialer(std::unique_ptr<quic::H3Dialer> quic, std::unique_ptr<SessionDialer> tcp,
                      AutoTransportConfig config)
      : quic_(std::move(quic)), tcp_(std::move(tcp)), config_(config) {}
  std::string_view name() const override { return "auto"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;

 private:
  std::unique_ptr<quic::H3Dialer> quic_;
  std::unique_ptr<SessionDialer> tcp_;
  AutoTransportConfig config_;
  // Per edge ("host:port"): when QUIC last failed; absent: QUIC is tried first.
  std::map<std::string, std::chrono::steady_clock::time_point> quic_failed_;
};

}  // namespace dialback::agent
